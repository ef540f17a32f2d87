"""The two stacks: source region and replica region."""

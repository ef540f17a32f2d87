"""The embedded AWS: a moto server on a free loopback port, with the deployment's resources."""

from __future__ import annotations

from moto.core.model_instances import model_data

from localrun.aws.clients import AwsClients
from localrun.aws.deployment import provision
from localrun.aws.server import EmbeddedServer


def test_the_server_takes_a_free_loopback_port_and_starts_empty(config):
    with EmbeddedServer() as first, EmbeddedServer() as second:
        assert first.url != second.url
        assert first.url.startswith("http://127.0.0.1:")
    with EmbeddedServer() as server:
        client = AwsClients(server.url, fake_credentials=True).dynamodb("eu-west-1")
        assert client.list_tables()["TableNames"] == []


def test_the_deployment_is_created_idempotently_and_reset_forgets_it(config):
    with EmbeddedServer() as server:
        clients = AwsClients(server.url, fake_credentials=True)
        # GIVEN the deployment's resources created on the server
        deployment = provision(config, clients)
        assert ":table/Users/stream/" in deployment.stream_arn
        assert set(clients.dynamodb("eu-west-1").list_tables()["TableNames"]) == {
            "Users",
            "Users-replication-state",
        }
        assert deployment.failure_queue_url.endswith("/Users-replication-failures")
        # WHEN provisioned again, THEN the same resources are reused
        assert provision(config, clients).stream_arn == deployment.stream_arn
        # AND a reset empties the server
        server.reset()
        assert clients.dynamodb("eu-west-1").list_tables()["TableNames"] == []


def test_moto_keeps_no_reference_to_the_table_copies_a_transaction_makes(config):
    # GIVEN the replica tables on the server (moto's TransactWriteItems deep-copies each table it
    # touches, for rollback, and moto tracks every model object it creates)
    with EmbeddedServer() as server:
        clients = AwsClients(server.url, fake_credentials=True)
        provision(config, clients)
        client = clients.dynamodb("eu-west-1")
        # WHEN transactions write to them
        for n in range(5):
            client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": "Users",
                            "Item": {"user_id": {"S": f"u{n}"}, "timestamp": {"N": "1"}},
                        }
                    },
                    {
                        "ConditionCheck": {
                            "TableName": "Users-replication-state",
                            "Key": {"pk": {"S": f"t{n}"}},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        # THEN no copy is kept alive by moto's instance tracker once the requests are answered
        tracked = [
            getattr(model, "instances_tracked", [])
            for models in model_data.values()
            for model in models.values()
        ]
        assert not any(tracked)

"""AsyncAPI 2.6 document of every message, generated from the contract registry.

External systems publishing detections read this (and the example) to know the
envelope, the exchange and the routing key.
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from shared.contracts import REGISTRY, Envelope

EXAMPLES: dict[str, dict[str, Any]] = {
    "detection.site.detected": {
        "id": "0b6c1f7e-6f0e-4d1e-9d7b-3f5f3d2a9c11",
        "type": "detection.site.detected",
        "occurred_at": "2026-11-29T08:00:00+08:00",
        "correlation_id": "probe-run-20261129-0800",
        "causation_id": None,
        "producer": "monitor",
        "provider_id": "demo-idc",
        "payload": {
            "domain": "unfiled-example.cn",
            "ip": "203.0.113.7",
            "province": "BJ",
            "provider_id": "demo-idc",
            "detected_at": "2026-11-29T07:59:12+08:00",
            "source": "probe-bj-01",
        },
    }
}


def build_asyncapi(version: str = "0.1.0") -> dict[str, Any]:
    specs = sorted((s for s in REGISTRY.values() if not s.type.startswith(("spine.", "bench"))), key=lambda s: s.type)
    _, defs = models_json_schema(
        [(s.model, "validation") for s in specs] + [(Envelope, "validation")],
        ref_template="#/components/schemas/{model}",
    )
    schemas = defs.get("$defs", {})
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for s in specs:
        name = s.model.__name__
        msg: dict[str, Any] = {
            "name": s.type,
            "title": name,
            "summary": s.summary.split("\n")[0],
            "description": s.summary,
            "contentType": "application/json",
            "headers": {"type": "object", "description": "AMQP message_id = envelope id; persistent delivery"},
            "payload": {
                "allOf": [
                    {"$ref": "#/components/schemas/Envelope"},
                    {"type": "object", "properties": {"type": {"const": s.type},
                                                      "payload": {"$ref": f"#/components/schemas/{name}"}}},
                ]
            },
        }
        if s.type in EXAMPLES:
            msg["examples"] = [{"name": "example", "payload": EXAMPLES[s.type]}]
        messages[name] = msg
        channels[s.type] = {
            "description": f"{s.kind}: routing key `{s.type}` on exchange `{s.exchange}`; "
            f"consumed by {', '.join(s.consumers)}",
            "bindings": {
                "amqp": {
                    "is": "routingKey",
                    "exchange": {"name": s.exchange, "type": "topic", "durable": True, "autoDelete": False, "vhost": "/"},
                    "bindingVersion": "0.2.0",
                }
            },
            "publish" if s.producer not in s.consumers else "subscribe": {
                "operationId": s.type.replace(".", "_"),
                "message": {"$ref": f"#/components/messages/{name}"},
            },
        }
    return {
        "asyncapi": "2.6.0",
        "info": {
            "title": "ICP 备案平台 消息契约 (ICP filing platform messages)",
            "version": version,
            "description": "Every message is the JSON envelope below; publish persistent messages with "
            "message_id = envelope id to the exchange named on each channel, routing key = message type.",
        },
        "defaultContentType": "application/json",
        "servers": {"rabbitmq": {"url": "amqp://{host}:5672", "protocol": "amqp", "protocolVersion": "0-9-1",
                                 "variables": {"host": {"default": "localhost"}}}},
        "channels": channels,
        "components": {"messages": messages, "schemas": schemas},
    }

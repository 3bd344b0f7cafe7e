from shared.asyncapi import EXAMPLES, build_asyncapi
from shared.contracts import REGISTRY, Envelope


def test_every_registered_message_is_documented_with_resolvable_refs():
    doc = build_asyncapi()
    assert doc["asyncapi"] == "2.6.0"
    documented = set(doc["channels"])
    assert {t for t in REGISTRY if not t.startswith(("spine.", "bench"))} <= documented
    text = str(doc)
    import re

    for ref in re.findall(r"#/components/(schemas|messages)/(\w+)", text):
        assert ref[1] in doc["components"][ref[0]], ref


def test_detection_example_is_a_valid_envelope_and_payload():
    example = EXAMPLES["detection.site.detected"]
    env = Envelope.model_validate(example)
    payload = env.parse_payload()
    assert payload.domain == "unfiled-example.cn"
    doc = build_asyncapi()
    msg = doc["components"]["messages"]["SiteDetected"]
    assert msg["examples"][0]["payload"] == example

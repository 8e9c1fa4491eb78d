"""OpenAI embeddings through the filter in real Envoy → Bedrock InvokeModel (Titan Text
Embeddings v2, Cohere Embed v3 / v4), with the official openai SDK."""

import json

import openai
import pytest

TITAN = "amazon.titan-embed-text-v2:0"
COHERE3 = "cohere.embed-english-v3"
COHERE4 = "cohere.embed-v4:0"


def sent(sim):
    r = [r for r in sim.requests if r["path"].endswith("/invoke")][-1]
    assert r["signature_ok"]
    return json.loads(r["body"])


def norm(v):
    return sum(x * x for x in v) ** 0.5


def test_titan_single_input_base64_default_and_float(client, sim):
    # The SDK asks for base64 by default and decodes it to floats.
    r = client.embeddings.create(model=TITAN, input="hello world", dimensions=256)
    assert len(r.data) == 1 and len(r.data[0].embedding) == 256
    assert abs(norm(r.data[0].embedding) - 1) < 1e-3
    assert r.usage.prompt_tokens == 2 and r.usage.total_tokens == 2
    assert sent(sim) == {"inputText": "hello world", "dimensions": 256, "normalize": True}
    f = client.embeddings.create(model=TITAN, input="hello world", dimensions=256, encoding_format="float")
    assert max(abs(a - b) for a, b in zip(f.data[0].embedding, r.data[0].embedding)) < 1e-6


def test_titan_refuses_lists(client, sim):
    with pytest.raises(openai.BadRequestError) as e:
        client.embeddings.create(model=TITAN, input=["a", "b"])
    assert e.value.code == "too_many_inputs"
    assert not [r for r in sim.requests if r["path"].endswith("/invoke")]


def test_cohere_batches_with_usage_from_bedrock(client, sim):
    texts = [f"text number {i}" for i in range(5)]
    r = client.embeddings.create(model=COHERE3, input=texts)
    assert [d.index for d in r.data] == list(range(5))
    assert all(len(d.embedding) == 1024 for d in r.data)
    assert r.usage.prompt_tokens == 15
    assert sent(sim) == {"texts": texts, "input_type": "search_document", "embedding_types": ["float"]}
    r4 = client.embeddings.create(model=COHERE4, input=texts[:2], dimensions=512, extra_body={"input_type": "search_query"})
    assert len(r4.data[1].embedding) == 512
    assert sent(sim)["output_dimension"] == 512 and sent(sim)["input_type"] == "search_query"


def test_limits_checked_before_sending(client, sim):
    for kw in [dict(model=COHERE3, input=["x"] * 97), dict(model=COHERE3, input="x", dimensions=256),
               dict(model=TITAN, input="x", dimensions=300), dict(model=COHERE3, input="y" * 2049),
               dict(model="claude", input="x")]:
        with pytest.raises(openai.BadRequestError):
            client.embeddings.create(**kw)
    assert not [r for r in sim.requests if r["path"].endswith("/invoke")]

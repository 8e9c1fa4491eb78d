"""Bedrock InvokeModel for embedding models, and CountTokens, for the simulator (sim.py).

Answers in the models' real response shapes (Bedrock user guide, model parameters):
  Titan Text Embeddings v2: {"embedding": [...], "inputTextTokenCount": n,
                             "embeddingsByType": {"float": [...]}}
  Titan Embeddings G1:      {"embedding": [...], "inputTextTokenCount": n}
  Cohere Embed v3 / v4:     {"id", "texts", "response_type": "embeddings_by_type",
                             "embeddings": {"float": [[...], ...]}} (or "embeddings_floats" with
                             a plain list when no embedding_types are asked for)
and the input token count in the `x-amzn-bedrock-input-token-count` header, as Bedrock does.
Requests are checked the way the models check them (required fields, limits, dimensions).
CountTokens: {"inputTokens": n} for `{"input": {"converse": {...}}}`, validated with botocore's
model of the operation when it has one.
"""

import hashlib
import json
import math
import re
import uuid


def _vector(text: str, dims: int, normalize=True):
    """A deterministic embedding of `text` (same text, same vector)."""
    out, i = [], 0
    while len(out) < dims:
        h = hashlib.sha256(f"{i}:{text}".encode()).digest()
        out.extend((b - 127.5) / 127.5 for b in h)
        i += 1
    out = out[:dims]
    if normalize:
        n = math.sqrt(sum(x * x for x in out)) or 1.0
        out = [x / n for x in out]
    return out


def _tokens(text: str) -> int:
    return max(1, len(re.findall(r"\w+|[^\w\s]", text)))


def embed(model_id: str, body: dict):
    """(status, response body, extra headers) for InvokeModel on an embedding model, or None
    when `model_id` is not one."""
    mid = model_id.lower()
    if "titan-embed-text-v2" in mid or "titan-embed-text-v1" in mid or "titan-embed-g1-text" in mid:
        text = body.get("inputText")
        if not isinstance(text, str) or not text:
            return 400, {"message": "Malformed input request: #: required key [inputText] not found"}, {}
        extra = set(body) - {"inputText", "dimensions", "normalize", "embeddingTypes"}
        if "v2" not in mid:
            extra = set(body) - {"inputText"}
        if extra:
            return 400, {"message": f"Malformed input request: #: extraneous key [{sorted(extra)[0]}] is not permitted"}, {}
        dims = body.get("dimensions", 1024 if "v2" in mid else 1536)
        if dims not in (256, 512, 1024, 1536):
            return 400, {"message": "Malformed input request: #/dimensions: must be 256, 512 or 1024"}, {}
        if len(text) > 50000:
            return 400, {"message": "Malformed input request: expected maxLength: 50000"}, {}
        vec = _vector(text, dims, body.get("normalize", True))
        n = _tokens(text)
        resp = {"embedding": vec, "inputTextTokenCount": n}
        if "v2" in mid:
            resp["embeddingsByType"] = {"float": vec}
        return 200, resp, {"x-amzn-bedrock-input-token-count": str(n)}
    if "cohere.embed" in mid:
        texts = body.get("texts")
        if not isinstance(texts, list) or not body.get("input_type"):
            return 400, {"message": "Malformed input request: texts and input_type are required"}, {}
        if len(texts) > 96:
            return 400, {"message": "Malformed input request: #/texts: expected maxItems: 96"}, {}
        v4 = "embed-v4" in mid
        if not v4 and any(len(t) > 2048 for t in texts):
            return 400, {"message": "Malformed input request: #/texts: expected maxLength: 2048"}, {}
        if "output_dimension" in body and not v4:
            return 400, {"message": "Malformed input request: extraneous key [output_dimension] is not permitted"}, {}
        dims = body.get("output_dimension", 1536 if v4 else 1024)
        vecs = [_vector(t, dims) for t in texts]
        n = sum(_tokens(t) for t in texts)
        resp = {"id": str(uuid.uuid4()), "texts": texts}
        if body.get("embedding_types"):
            resp.update(response_type="embeddings_by_type", embeddings={"float": vecs})
        else:
            resp.update(response_type="embeddings_floats", embeddings=vecs)
        return 200, resp, {"x-amzn-bedrock-input-token-count": str(n)}
    return None


def count_tokens(validate, model_id: str, body: bytes):
    """(status, body) for CountTokens."""
    try:
        req = json.loads(body)
        conv = req["input"]["converse"]
    except (ValueError, KeyError, TypeError):
        return 400, {"message": "Malformed input request: input.converse is required"}
    problem = validate("Converse", model_id, json.dumps(conv).encode())
    if problem:
        return 400, {"message": problem}
    text = json.dumps([conv.get("system", []), conv.get("messages", []), conv.get("toolConfig", {})])
    return 200, {"inputTokens": _tokens(text)}

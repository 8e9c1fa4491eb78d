"""The Envoy configurations shipped in envoy/, loaded as they are and adapted to a test run: the
listener and admin on free ports, named clusters pointed at local services (plain HTTP), the
built module, and, optionally, another filter configuration. Nothing else is changed."""

import json

import yaml

from harness import ARTIFACTS, ROOT, WASM, Envoy, free_port


def load(relative: str) -> dict:
    return yaml.safe_load((ROOT / "envoy" / relative).read_text())


def wasm_filters(node):
    """Every envoy.filters.http.wasm config in `node` (listener chains and cluster upstream filters)."""
    if isinstance(node, dict):
        if node.get("name") == "envoy.filters.http.wasm":
            yield node["typed_config"]["config"]
        for v in node.values():
            yield from wasm_filters(v)
    elif isinstance(node, list):
        for v in node:
            yield from wasm_filters(v)


def point_cluster(cfg: dict, name: str, port: int):
    """Send cluster `name` to 127.0.0.1:`port` over plain HTTP (the simulator, a local RLS)."""
    for c in cfg["static_resources"]["clusters"]:
        if c["name"] == name:
            c["type"] = "STATIC"
            c.pop("transport_socket", None)
            c.pop("dns_lookup_family", None)
            for group in c["load_assignment"]["endpoints"]:
                for ep in group["lb_endpoints"]:
                    ep["endpoint"]["address"]["socket_address"].update(address="127.0.0.1", port_value=port)
            return c
    raise KeyError(f"no cluster {name}")


def plugin_config(wasm_config: dict) -> dict:
    return json.loads(wasm_config["configuration"]["value"])


def set_plugin_config(wasm_config: dict, value: dict):
    wasm_config["configuration"]["value"] = json.dumps(value)


def start(cfg: dict, name: str, env=None) -> Envoy:
    """Run `cfg` with the listener and admin on free ports and the built module."""
    port, admin_port = free_port(), free_port()
    cfg["static_resources"]["listeners"][0]["address"]["socket_address"]["port_value"] = port
    cfg["admin"]["address"]["socket_address"]["port_value"] = admin_port
    for w in wasm_filters(cfg):
        w["vm_config"]["code"]["local"]["filename"] = str(WASM)
    e = Envoy.__new__(Envoy)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    e.launch(cfg, port, admin_port, ARTIFACTS / f"{name}-{port}", env=env)
    return e


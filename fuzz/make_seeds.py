#!/usr/bin/env python3
"""Writes the hand-made seed inputs of the fuzz targets into fuzz/corpus/<target>/seed-* (run
once; the fuzzer grows the corpus from them; `cargo xtask fuzz --minimize` keeps every seed-*
and crash-* file and shrinks the rest). Ids and clocks are
those of the test city in shared/src/policy/testkit.rs."""
import hashlib, json, os, sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

def uid(n): return "00000000-0000-0000-0000-%012x" % n
def hlc(ms, c=0): return "%015d-%06d" % (ms, c)
T0 = 1_800_000_000_000
HOUR = 3_600_000
SD1, C11, G111, G112, CASE = 1, 11, 111, 112, 900

def op(n, coll, rec, body, at=T0 + HOUR, actor=0xa000):
    return {"id": uid(0x10000 + n), "actor": uid(actor), "hlc": hlc(at), "collection": coll,
            "record": uid(rec), "body": body, "schema": 1}

def setb(**f): return {"kind": "set", "fields": f}
def app(e, **d): return {"kind": "append", "entry": {"id": uid(e), "data": d}}

OPS = [
    op(1, "cases", CASE, setb(status="accepted", assignee="c11")),
    op(2, "cases", CASE, app(0xe9, action="note", by="w1", text="已联系物业")),
    op(3, "households", 905, setb(grid=uid(G111), address="1号楼2单元", head_name="张三", phone="13800000000", note="独居老人")),
    op(4, "visits", 906, setb(grid=uid(G111), kind="household_visit", warden="w1", visited_at=T0, notes="一切正常", appeals=["修路灯"], position=[100.23, 25.6, 12.0])),
    op(5, "grids", G112, setb(name="二网格", community=uid(C11), boundary={"type": "Polygon", "coordinates": [[[100.0, 25.0], [100.1, 25.0], [100.1, 25.1], [100.0, 25.0]]]})),
    op(6, "cases", 901, setb(grid=uid(G111), title="路灯坏了", category="infrastructure", status="reported", reporter="w1", reported_at=T0 + HOUR, deadline=T0 + 72 * HOUR)),
    op(7, "activities", 907, setb(community=uid(C11), title="义诊", theme="health", special=False, date="2026-11-29", volunteers=12)),
    op(8, "communities", C11, setb(name="新社区", subdistrict=uid(SD1))),
    op(9, "cases", CASE, setb(deleted=True)),
    op(10, "cases", CASE, app(0xea, action="close", by="c11")),
]

def write(target, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str): data = data.encode()
    name = "seed-" + hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f: f.write(data)

for o in OPS:
    write("op_decoding", json.dumps(o, ensure_ascii=False))
# One push per person of the city (the last byte of the actor picks the pusher).
for who in range(9):
    write("judging", json.dumps({"protocol": 1, "actor": uid(0xa000 + who), "ops": OPS}, ensure_ascii=False))
write("judging", json.dumps({"protocol": 1, "actor": uid(0xa008), "ops": [OPS[0], OPS[0], {"id": 1}]}))

ring = [[100.0, 25.0], [100.01, 25.0], [100.01, 25.01], [100.0, 25.01], [100.0, 25.0]]
ring2 = [[100.01, 25.0], [100.02, 25.0], [100.02, 25.01], [100.01, 25.01], [100.01, 25.0]]
def feat(code, r, kind="Polygon"):
    coords = [r] if kind == "Polygon" else [[r]]
    return {"type": "Feature", "properties": {"code": code, "name": "网格" + code, "community": "C1"},
            "geometry": {"type": kind, "coordinates": coords}}
write("geo_import", json.dumps({"type": "FeatureCollection", "features": [feat("G1", ring), feat("G2", ring2, "MultiPolygon")]}, ensure_ascii=False))
write("geo_import", json.dumps({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:4326"}}, "features": [feat("G1", ring), feat("G1", ring)]}, ensure_ascii=False))

def rec(seq, n, fields):
    return {"seq": seq, "collection": "cases", "id": uid(n), "fields": fields}
stamp = {"hlc": hlc(T0), "actor": uid(0xa000)}
page = {"records": [rec(3, CASE, {"title": {"value": "楼道堆物", "stamp": stamp}}), rec(7, 901, {})],
        "cursor": 7, "more": True, "reset": False, "scope": "s", "server_time_ms": T0}
for limit_byte in (0, 100, 200):
    write("pull_page", bytes([limit_byte]) + json.dumps(page, ensure_ascii=False).encode())
bad = dict(page, records=[rec(9, 902, {"title": {"value": 5, "stamp": 1}})], cursor=9)
write("pull_page", bytes([0]) + json.dumps(bad).encode())

"""A reader of NSG flow logs as Azure lays them out, written from Azure's
documentation (network-watcher-nsg-flow-logging-overview, azure-semantics
6.8), not from asenet's code: the blobs of the container
insights-logs-networksecuritygroupflowevent, as a download of it leaves them:

  resourceId=/SUBSCRIPTIONS/<SUB>/RESOURCEGROUPS/<RG>/PROVIDERS/MICROSOFT.NETWORK/
    NETWORKSECURITYGROUPS/<NSG>/y=YYYY/m=MM/d=DD/h=HH/m=00/macAddress=<MAC>/PT1H.json

one blob per NSG, hour and NIC, holding one JSON document {"records":[...]}
to which a record is appended every minute. Each record: time, systemId,
macAddress, category NetworkSecurityGroupFlowEvent, resourceId (the NSG's, in
capitals), operationName NetworkSecurityGroupFlowEvents, properties {Version,
flows: [{rule, flows: [{mac, flowTuples}]}]}; version 2 tuples have 13 fields.

read(root) checks all of that and returns the tuples; a breach raises
LayoutError naming the file. Used by golden 038 and tests/live/live_control.py."""

import calendar
import json
import os
import re

CONTAINER_PATH = re.compile(
    r"resourceId=/SUBSCRIPTIONS/(?P<sub>[^/]+)/RESOURCEGROUPS/(?P<rg>[^/]+)/PROVIDERS/MICROSOFT\.NETWORK/"
    r"NETWORKSECURITYGROUPS/(?P<nsg>[^/]+)/y=(?P<y>\d{4})/m=(?P<mo>\d{2})/d=(?P<d>\d{2})/h=(?P<h>\d{2})/m=00/"
    r"macAddress=(?P<mac>[0-9A-F]{12})/PT1H\.json")
RECORD_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?Z")
TUPLE_V2 = re.compile(r"\d+,[\d.]+,[\d.]+,\d+,\d+,[TU],[IO],[AD],[BCE],(\d*),(\d*),(\d*),(\d*)")


class LayoutError(Exception):
    pass


def blobs(root):
    """Every file below root, as (path relative to root, full path)."""
    for d, _, names in os.walk(root):
        for n in names:
            full = os.path.join(d, n)
            yield os.path.relpath(full, root), full


def read(root):
    """The tuples of every blob below root: dicts with nsg, mac, hour (Unix
    seconds of the blob's hour), record_time (Unix seconds), rule and tuple."""
    out = []
    for rel, full in sorted(blobs(root)):
        m = CONTAINER_PATH.fullmatch(rel)
        if not m:
            raise LayoutError("%s: not where Azure puts a flow log blob" % rel)
        hour = calendar.timegm((int(m["y"]), int(m["mo"]), int(m["d"]), int(m["h"]), 0, 0))
        text = open(full).read()
        try:
            doc = json.loads(text)
        except ValueError as e:
            raise LayoutError("%s: not one JSON document: %s" % (rel, e))
        if list(doc) != ["records"] or not isinstance(doc["records"], list) or not doc["records"]:
            raise LayoutError("%s: not {\"records\":[...]}" % rel)
        last = None
        for rec in doc["records"]:
            t = RECORD_TIME.fullmatch(rec.get("time", ""))
            if not t:
                raise LayoutError("%s: record time %r" % (rel, rec.get("time")))
            at = calendar.timegm(tuple(int(x) for x in t.groups()[:6]))
            if not hour <= at < hour + 3600:
                raise LayoutError("%s: a record of %s in the blob of another hour" % (rel, rec["time"]))
            if last is not None and at < last:
                raise LayoutError("%s: records not appended in time order" % rel)
            last = at
            want_rid = "/SUBSCRIPTIONS/%s/RESOURCEGROUPS/%s/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/%s" % (
                m["sub"], m["rg"], m["nsg"])
            if (rec.get("category") != "NetworkSecurityGroupFlowEvent"
                    or rec.get("operationName") != "NetworkSecurityGroupFlowEvents"
                    or rec.get("resourceId") != want_rid or rec.get("macAddress") != m["mac"]
                    or "systemId" not in rec):
                raise LayoutError("%s: record fields %r" % (rel, {k: v for k, v in rec.items() if k != "properties"}))
            props = rec.get("properties", {})
            if props.get("Version") != 2:
                raise LayoutError("%s: properties.Version %r" % (rel, props.get("Version")))
            for fl in props["flows"]:
                for f in fl["flows"]:
                    if f["mac"] != m["mac"]:
                        raise LayoutError("%s: a flow of MAC %s in the blob of %s" % (rel, f["mac"], m["mac"]))
                    for tup in f["flowTuples"]:
                        c = TUPLE_V2.fullmatch(tup)
                        if not c or (tup.split(",")[8] == "B") != (c.groups() == ("", "", "", "")):
                            raise LayoutError("%s: not a version 2 tuple: %r" % (rel, tup))
                        out.append({"nsg": m["nsg"], "mac": m["mac"], "hour": hour, "record_time": at,
                                    "rule": fl["rule"], "tuple": tup})
    return out

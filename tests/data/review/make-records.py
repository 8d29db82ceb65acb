#!/usr/bin/env python3
# Makes the record fixtures of the page tests (docs/pages.md), answers shaped as
# docs/review-format.md says the daemon gives them, UTC throughout:
#   review/record.json       case 2026-XZ-0042, complete with reservations: 8 clips on 4 devices,
#                            Chinese officers, a damaged clip of unknown length (reported), a late
#                            clip with its explanation, remote duty, a device by annotation, a
#                            clip shared with another case, 40 accesses of which 30 are listed
#   review/record-open.json  case 2026-XZ-0043, incomplete: two 590 s gaps, a late clip, a
#                            damaged clip without a report, a clip without a device
#   history/8.json           the chain of custody of entry 8, with each proof's "client" result as custodyctl
#                            sets it (one failing, one absent)
#   history/27.json          a clip that arrived twice and was purged
# Run from anywhere: python3 tests/data/review/make-records.py
import json
import os

here = os.path.dirname(os.path.abspath(__file__))
OTHER = "沪公(2026)行罚字第0042号"
CASE = "2026-XZ-0042"


def clip(index, name, device, officer, start, end, dur, ingested, deadline, storage="on_time",
         now=None, **kw):
    c = {"index": index, "type": "ingest", "name": name, "zone": "dock", "officer": officer,
         "recorded_start": start, "recorded_end": end, "time_source": "tag" if start else None,
         "time_in_future": False, "duration_us": dur, "size": 24000000 + index,
         "sha256": ("%02x" % index) * 32, "ingested_at": ingested, "deadline": deadline,
         "storage": storage, "storage_now": now or storage, "explained_by": [], "damaged": False,
         "error": None, "damage_report": None, "integrity": "ok", "explanations": [],
         "device_from": "name", "other_cases": []}
    c.update(kw)
    return c


def ann(kind, at, by="dave(uid 1004)", **kw):
    e = {"v": 1, "type": "annotation", "kind": kind, "by": by, "at": at}
    e.update(kw)
    return e


def access(index, by, op, at, entries, allowed=True, result=None, **kw):
    a = {"index": index, "by": by, "op": op, "at": at, "allowed": allowed, "result": result,
         "entries": entries, "authority": None, "approval": None, "purpose": None,
         "destination": None}
    a.update(kw)
    return a


# ---- the complete case, with reservations -------------------------------------------------------
battery = "更换电池：摄像机在 09:00 送回充电。"
leave = "Officer 张伟 off duty for three days; camera locked in the station."
late_reason = "Officer on a 3-day rural patrol without network; uploaded on return."
damage = "设备在录制时电量耗尽，文件被截断；前 4 分钟可以播放。"
spare = "Spare camera issued to officer 王强 that day; its name pattern was not configured."

cam01 = [
    clip(5, "CAM01_张伟_20261125T010000.mp4", "CAM01", "张伟", "2026-11-25T01:00:00Z",
         "2026-11-25T01:00:10Z", 10000000, "2026-11-25T02:00:00Z", "2026-11-26T01:00:10Z"),
    clip(6, "CAM01_张伟_20261125T011000.mp4", "CAM01", "张伟", "2026-11-25T01:10:00Z",
         "2026-11-25T01:10:10Z", 10000000, "2026-11-25T02:00:05Z", "2026-11-26T01:10:10Z"),
    clip(7, "CAM01_张伟_20261128T042000.mp4", "CAM01", "张伟", "2026-11-28T04:20:00Z",
         "2026-11-28T04:29:50Z", 590000000, "2026-11-28T06:00:00Z", "2026-11-29T04:29:50Z"),
]
cam02 = [
    clip(8, "CAM02_李娜_20261126T020000.mp4", "CAM02", "李娜", "2026-11-26T02:00:00Z", None,
         None, "2026-11-26T03:00:00Z", "2026-11-27T02:00:00Z", type="damaged", damaged=True,
         error="libavformat: moov atom not found (Invalid data found when processing input)",
         damage_report=21,
         explanations=[{"index": 21, "kind": "damage_report", "text": damage,
                        "by": "dave(uid 1004)", "at": "2026-11-26T05:00:00Z"}]),
    clip(9, "CAM02_李娜_20261126T030000.mp4", "CAM02", "李娜", "2026-11-26T03:00:00Z",
         "2026-11-26T03:05:00Z", 300000000, "2026-11-26T04:00:00Z", "2026-11-27T03:05:00Z",
         other_cases=[OTHER]),
]
cam05 = [
    clip(12, "CAM05_O0917_20261120T080000.mp4", "CAM05", "O0917", "2026-11-20T08:00:00Z",
         "2026-11-20T08:20:00Z", 1200000000, "2026-11-23T11:00:00Z", "2026-11-21T08:20:00Z",
         storage="late", explained_by=[19],
         explanations=[{"index": 19, "kind": "late_storage", "text": late_reason,
                        "by": "dave(uid 1004)", "at": "2026-11-23T12:00:00Z"}]),
]
cam07 = [
    clip(14, "CAM07_王强_20261121T100000.mp4", "CAM07", "王强", "2026-11-21T10:00:00Z",
         "2026-11-21T10:30:00Z", 1800000000, "2026-11-23T09:00:00Z", "2026-11-22T10:30:00Z",
         storage="late", now="on_time_remote", explained_by=[18],
         explanations=[{"index": 18, "kind": "remote_duty", "text": None,
                        "by": "dave(uid 1004)", "at": "2026-11-20T07:00:00Z",
                        "from": "2026-11-21T00:00:00Z", "to": "2026-11-22T12:00:00Z",
                        "returned_at": "2026-11-22T12:00:00Z", "device": "CAM07"}]),
    clip(15, "VID_0001.MP4", "CAM07", None, "2026-11-21T11:00:00Z", "2026-11-21T11:10:00Z",
         600000000, "2026-11-21T12:00:00Z", "2026-11-22T11:10:00Z", device_from="annotation",
         time_source="mtime",
         explanations=[{"index": 24, "kind": "device", "text": spare, "by": "dave(uid 1004)",
                        "at": "2026-11-30T08:00:00Z", "device": "CAM07", "officer": "王强"}]),
]
gaps01 = [
    {"from": "2026-11-25T01:00:10Z", "to": "2026-11-25T01:10:00Z", "seconds": 590, "after": 5,
     "before": 6, "explained_by": 22, "reason": battery},
    {"from": "2026-11-25T01:10:10Z", "to": "2026-11-28T04:20:00Z", "seconds": 270590, "after": 6,
     "before": 7, "explained_by": 23, "reason": leave},
]

log = []
n = 100
for k in range(5):
    log.append(access(n, "carol(uid 1003)", "review", "2026-12-0%dT0%d:00:00Z" % (1 + k, k + 1),
                      [5, 6, 7, 8, 9, 12, 14, 15]))
    n += 1
for k in range(12):
    log.append(access(n, "erin(uid 1005)", "entry", "2026-12-02T%02d:15:00Z" % (k + 1), [9]))
    n += 1
log.append(access(n, "frank(uid 1006)", "copy-out", "2026-12-03T02:00:00Z", [8], result="copied",
                  authority="approval", approval=33,
                  destination="/media/usb0/2026-XZ-0042/CAM02_李娜_20261126T020000.mp4",
                  purpose="提交法院：行政诉讼证据（第一审）"))
n += 1
log.append(access(n, "frank(uid 1006)", "copy-out", "2026-12-03T02:05:00Z", [9], result="copied",
                  authority="approval", approval=33,
                  destination="/media/usb0/2026-XZ-0042/CAM02_李娜_20261126T030000.mp4",
                  purpose="提交法院：行政诉讼证据（第一审）"))
n += 1
for k in range(3):
    log.append(access(n, "mallory(uid 1010)", "copy-out", "2026-12-04T0%d:00:00Z" % (k + 1), [8],
                      allowed=False, result="refused"))
    n += 1
for k in range(8):
    log.append(access(n, "auditor(uid 1020)", "proof", "2026-12-04T1%d:30:00Z" % k, [5 + k % 3]))
    n += 1

annotations = [
    ann("remote_duty", "2026-11-20T07:00:00Z", device="CAM07", **{"from": "2026-11-21T00:00:00Z",
        "to": "2026-11-22T12:00:00Z", "returned_at": "2026-11-22T12:00:00Z"}),
    ann("late_storage", "2026-11-23T12:00:00Z", entry=12, reason=late_reason),
    ann("damage_report", "2026-11-26T05:00:00Z", entry=8, explanation=damage),
    ann("interruption", "2026-11-26T06:00:00Z", device="CAM01", reason=battery,
        **{"from": "2026-11-25T01:00:00Z", "to": "2026-11-25T01:10:30Z"}),
    ann("interruption", "2026-11-28T07:00:00Z", device="CAM01", reason=leave,
        **{"from": "2026-11-25T01:10:00Z", "to": "2026-11-28T04:20:00Z"}),
    ann("device", "2026-11-30T08:00:00Z", entry=15, device="CAM07", reason=spare),
    ann("case", "2026-11-30T09:00:00Z", by="carol(uid 1003)", case=CASE,
        entries=[5, 6, 7, 8, 9, 12, 14, 15]),
    ann("case", "2026-11-30T10:00:00Z", by="gao(uid 1030)", case=OTHER, entries=[9]),
    ann("approval", "2026-12-02T09:00:00Z", by="judge(uid 1040)", grantee="frank",
        entries=[8, 9], purpose="提交法院：行政诉讼证据（第一审）",
        expires="2026-12-31T00:00:00Z", approver="judge(uid 1040)"),
    ann("hold", "2026-12-02T10:00:00Z", entries=[8], reason="诉讼保全，保留至判决生效。"),
]

record = {
    "case": CASE, "as_of": "2026-12-05T01:15:00Z", "checkpoint_size": 350,
    "checkpoint": "office.example/custody\n350\nq1x1rQKtl+iIg6EQZFx4d1Wg6c2VxW9eVZJgQ2AG1zY=\n\n"
                  "— office.example/custody AAAAAA==\n",
    "requested_by": "carol(uid 1003)", "complete": True,
    "verdict": "complete with reservations: 8 clips from 4 devices, every gap explained; "
               "entry 8 damaged (reported, #21); entry 12 stored late (explained, #19)",
    "open": [],
    "reservations": [
        {"kind": "damaged", "entry": 8, "device": "CAM02", "from": None, "to": None,
         "explained_by": 21},
        {"kind": "late", "entry": 12, "device": "CAM05", "from": None, "to": None,
         "explained_by": 19},
        {"kind": "remote_duty", "entry": 14, "device": "CAM07", "from": None, "to": None,
         "explained_by": 18},
        {"kind": "gap", "entry": 6, "device": "CAM01", "from": "2026-11-25T01:00:10Z",
         "to": "2026-11-25T01:10:00Z", "explained_by": 22},
        {"kind": "gap", "entry": 7, "device": "CAM01", "from": "2026-11-25T01:10:10Z",
         "to": "2026-11-28T04:20:00Z", "explained_by": 23},
        {"kind": "no_device", "entry": 15, "device": "CAM07", "from": None, "to": None,
         "explained_by": 24},
    ],
    "bound_by": [30],
    "devices": [
        {"device": "CAM01", "clips": cam01, "gaps": gaps01},
        {"device": "CAM02", "clips": cam02, "gaps": []},
        {"device": "CAM05", "clips": cam05, "gaps": []},
        {"device": "CAM07", "clips": cam07, "gaps": []},
    ],
    "accesses": [],
    "accesses_total": 52,
    "access_log": log,
    "access_log_total": 40,
    "annotations": annotations,
}

# ---- the incomplete case ------------------------------------------------------------------------
cam03 = [
    clip(50, "CAM03_O0777_20261201T080000.mp4", "CAM03", "O0777", "2026-12-01T08:00:00Z",
         "2026-12-01T08:00:10Z", 10000000, "2026-12-01T09:00:00Z", "2026-12-02T08:00:10Z"),
    clip(51, "CAM03_O0777_20261201T081000.mp4", "CAM03", "O0777", "2026-12-01T08:10:00Z",
         "2026-12-01T08:10:10Z", 10000000, "2026-12-01T09:00:00Z", "2026-12-02T08:10:10Z"),
    clip(52, "CAM03_O0777_20261201T082000.mp4", "CAM03", "O0777", "2026-12-01T08:20:00Z",
         "2026-12-01T08:20:10Z", 10000000, "2026-12-04T11:10:00Z", "2026-12-02T08:20:10Z",
         storage="late"),
    clip(53, "CAM03_O0777_20261201T083000.mp4", "CAM03", "O0777", "2026-12-01T08:30:00Z",
         None, None, "2026-12-01T09:00:00Z", "2026-12-02T08:30:00Z", type="damaged",
         damaged=True, error="libavformat: Invalid data found when processing input"),
]
nodev = [
    clip(55, "upload/IMG_7731.MOV", None, None, "2026-12-01T07:00:00Z", "2026-12-01T07:05:00Z",
         300000000, "2026-12-01T09:00:00Z", "2026-12-02T07:05:00Z"),
]
gaps03 = [
    {"from": "2026-12-01T08:00:10Z", "to": "2026-12-01T08:10:00Z", "seconds": 590, "after": 50,
     "before": 51, "explained_by": None, "reason": None},
    {"from": "2026-12-01T08:10:10Z", "to": "2026-12-01T08:20:00Z", "seconds": 590, "after": 51,
     "before": 52, "explained_by": None, "reason": None},
]
open_items = [
    {"kind": "late", "entry": 52, "device": "CAM03", "from": "2026-12-01T08:20:00Z",
     "to": "2026-12-01T08:20:10Z", "message": "stored 2 d 2 h 49 min after its deadline, no explanation",
     "action": "custodyctl annotate late_storage --entry 52 --reason TEXT"},
    {"kind": "damaged", "entry": 53, "device": "CAM03", "from": None, "to": None,
     "message": "damaged file, no damage report",
     "action": "custodyctl annotate damage_report --entry 53 --explanation TEXT"},
    {"kind": "gap", "entry": 51, "device": "CAM03", "from": "2026-12-01T08:00:10Z",
     "to": "2026-12-01T08:10:00Z", "message": "CAM03 recorded nothing for 9 min 50 s",
     "action": "custodyctl annotate interruption --device CAM03 --from 2026-12-01T08:00:10Z "
               "--to 2026-12-01T08:10:00Z --reason TEXT"},
    {"kind": "gap", "entry": 52, "device": "CAM03", "from": "2026-12-01T08:10:10Z",
     "to": "2026-12-01T08:20:00Z", "message": "CAM03 recorded nothing for 9 min 50 s",
     "action": "custodyctl annotate interruption --device CAM03 --from 2026-12-01T08:10:10Z "
               "--to 2026-12-01T08:20:00Z --reason TEXT"},
    {"kind": "no_device", "entry": 55, "device": None, "from": None, "to": None,
     "message": "its name matched no pattern of zone dock",
     "action": "custodyctl annotate device --entry 55 --device D --reason TEXT"},
]
record_open = {
    "case": "2026-XZ-0043", "as_of": "2026-12-05T01:20:00Z", "checkpoint_size": 351,
    "checkpoint": None, "requested_by": "carol(uid 1003)", "complete": False,
    "verdict": "INCOMPLETE: …", "open": open_items,
    "reservations": [{"kind": "damaged", "entry": 53, "device": "CAM03", "from": None, "to": None,
                      "explained_by": None}],
    "bound_by": [60],
    "devices": [{"device": "CAM03", "clips": cam03, "gaps": gaps03},
                {"device": None, "clips": nodev, "gaps": []}],
    "accesses": [], "accesses_total": 0, "access_log": [], "access_log_total": 0,
    "annotations": [ann("case", "2026-12-05T01:00:00Z", by="carol(uid 1003)",
                        case="2026-XZ-0043", entries=[50, 51, 52, 53, 55])],
}

# ---- the chain of custody of entry 8 ------------------------------------------------------------
c8 = dict(cam02[0])
entry8 = {"v": 1, "type": "damaged", "name": c8["name"], "zone": "dock", "device": "CAM02",
          "officer": "李娜", "recorded_start": c8["recorded_start"], "recorded_end": None,
          "time_source": "tag", "duration_us": None, "size": c8["size"], "sha256": c8["sha256"],
          "ingested_at": c8["ingested_at"], "deadline": c8["deadline"], "storage": "on_time",
          "error": c8["error"], "container": "mov,mp4,m4a,3gp,3g2,mj2", "streams": [],
          "stored": "objects/08/" + c8["sha256"]}


def ev(index, kind, at, entry, checked=True, error=None, proof="tlog-proof@v1\n…"):
    e = {"index": index, "kind": kind, "at": at, "entry": entry, "proof": proof}
    # What custodyctl's check adds (ctl/check.h): "client": {"proof", "message"}.
    if checked is not None:
        e["client"] = {"proof": "verified" if checked else "failed", "message": error or ""}
    return e


def acc_entry(a):
    e = {"v": 1, "type": "access", "by": a["by"], "uid": 1000, "op": a["op"], "target": 8,
         "at": a["at"], "allowed": a["allowed"], "entries": a["entries"]}
    for k in ("result", "authority", "approval", "purpose", "destination"):
        if a.get(k) is not None:
            e[k] = a[k]
    return e


events = [
    ev(8, "arrival", c8["ingested_at"], entry8),
    ev(21, "annotation", "2026-11-26T05:00:00Z", annotations[2]),
    ev(30, "annotation", "2026-11-30T09:00:00Z", annotations[6]),
    ev(33, "annotation", "2026-12-02T09:00:00Z", annotations[8]),
    ev(40, "annotation", "2026-12-02T10:00:00Z", annotations[9]),
    ev(100, "access", log[0]["at"], acc_entry(log[0])),
    ev(117, "access", log[17]["at"], acc_entry(log[17]),
       checked=False, error="the proof does not lead to the checkpoint's root"),
    ev(119, "access", log[19]["at"], acc_entry(log[19])),
    ev(140, "scrub", "2026-12-04T23:00:00Z",
       {"v": 1, "type": "scrub", "started_at": "2026-12-04T22:00:00Z",
        "at": "2026-12-04T23:00:00Z", "log_size": 139, "checked": 120, "ok": 120, "purged": 0,
        "bytes": 2900000000, "missing": [], "altered": [], "part": 1, "parts": 1}),
    ev(352, "access", "2026-12-05T01:16:00Z",
       {"v": 1, "type": "access", "by": "carol(uid 1003)", "uid": 1003, "op": "history",
        "target": 8, "at": "2026-12-05T01:16:00Z", "allowed": True, "entries": [8]},
       checked=None, proof=None),
]
history8 = {
    "entry": 8, "as_of": "2026-12-05T01:16:00Z", "requested_by": "carol(uid 1003)",
    "checkpoint_size": 350, "checkpoint": record["checkpoint"], "clip": entry8,
    "storage_now": "on_time", "integrity": "ok", "cases": [CASE, OTHER], "held": True,
    "purged": False, "events": events, "accesses_total": 18, "events_truncated": False,
}

# ---- a purged clip ------------------------------------------------------------------------------
entry27 = {"v": 1, "type": "ingest", "name": "CAM09_O0100_20250101T080000.mp4", "zone": "dock",
           "device": "CAM09", "officer": "O0100", "recorded_start": "2025-01-01T08:00:00Z",
           "recorded_end": "2025-01-01T08:10:00Z", "time_source": "filename",
           "duration_us": 600000000, "size": 9000000, "sha256": "27" * 32,
           "ingested_at": "2025-01-01T09:00:00Z", "deadline": "2025-01-02T08:10:00Z",
           "storage": "on_time", "stored": "objects/27/" + "27" * 32}
history27 = {
    "entry": 27, "as_of": "2026-12-05T02:00:00Z", "requested_by": "carol(uid 1003)",
    "checkpoint_size": 350, "checkpoint": None, "clip": entry27, "storage_now": "on_time",
    "integrity": "purged", "cases": [], "held": False, "purged": True,
    "events": [
        ev(27, "arrival", "2025-01-01T09:00:00Z", entry27),
        ev(28, "duplicate", "2025-01-01T09:05:00Z",
           {"v": 1, "type": "duplicate", "zone": "upload", "name": "copy of CAM09.mp4",
            "size": 9000000, "sha256": "27" * 32, "received_at": "2025-01-01T09:05:00Z",
            "of": 27}),
        ev(300, "purge", "2026-01-02T00:00:00Z",
           {"v": 1, "type": "purge", "entry": 27, "sha256": "27" * 32,
            "stored": "objects/27/" + "27" * 32, "by": "olga(uid 1050)",
            "at": "2026-01-02T00:00:00Z", "reason": "Retention period of one year is over.",
            "zone": "dock", "retention_s": 31536000, "due_at": "2026-01-01T09:00:00Z",
            "removed": True}),
    ],
    "accesses_total": 0, "events_truncated": False,
}

for name, obj in (("record.json", record), ("record-open.json", record_open),
                  ("../history/8.json", history8), ("../history/27.json", history27)):
    with open(os.path.join(here, name), "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write("\n")

"""`bcsync doctor`'s report: text for people, JSON to attach to a bug report (no values)."""

from __future__ import annotations

from typing import Any

from bcsync.providers.tiktok.doctor import Diagnosis, Probe

# Request parameters not worth a word in the text view.
HIDDEN = ("page", "page_size", "sent")


def to_json(diagnoses: list[Diagnosis], provider: str, version: str) -> dict[str, Any]:
    """The report to attach to a bug report: shapes and verdicts, no values, no BC id."""
    return {
        "format": "bcsync-doctor/1",
        "bcsync_version": version,
        "provider": provider,
        "verdict": "confirmed" if all(d.ok for d in diagnoses) else "differs",
        "business_centers": [
            {
                "verdict": "confirmed" if d.ok else "differs",
                "endpoints": [_probe_json(p) for p in d.probes],
            }
            for d in diagnoses
        ],
    }


def _probe_json(probe: Probe) -> dict[str, Any]:
    return {
        "endpoint": probe.endpoint,
        "request": dict(probe.request),
        "verdict": probe.verdict.value,
        "request_id": probe.request_id,
        "items": probe.items,
        "page_size": dict(probe.page_size) if probe.page_size else None,
        "mismatches": [
            {"key": m.key, "found": m.found, "expected": m.expected} for m in probe.mismatches
        ],
        "shape": {
            k.path: {"types": list(k.types), **({"values": list(k.values)} if k.values else {})}
            for k in probe.shape
        },
        "note": probe.note,
    }


def to_text(diagnoses: list[Diagnosis]) -> str:
    """One line per probe, the mismatches under it, a verdict last."""
    lines: list[str] = []
    for diagnosis in diagnoses:
        lines.append(f"Business Center {diagnosis.bc_id}:")
        for probe in diagnosis.probes:
            asked = ", ".join(
                f"{k}={v}"
                for k, v in probe.request.items()
                if k not in ("page", "page_size", "sent")
            )
            head = f"  {probe.verdict.value:<10} {probe.endpoint}" + (
                f" ({asked})" if asked else ""
            )
            if probe.items is not None:
                head += f": {probe.items} item(s)"
            if probe.page_size and not probe.page_size["honoured"]:
                head += f"; page size {probe.page_size['asked']} not honoured"
            lines.append(head)
            lines += [f"      {m.text()}" for m in probe.mismatches]
            if probe.note:
                lines.append(f"      {probe.note}")
    ok = all(d.ok for d in diagnoses)
    lines.append(
        "Everything bcsync reads is confirmed."
        if ok
        else "Some answers differ from what bcsync reads: bcsync would stop there (exit 1). "
        "Attach `bcsync doctor --format json` to a bug report."
    )
    return "\n".join(lines) + "\n"

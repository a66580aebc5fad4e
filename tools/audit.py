"""Known vulnerabilities in the installed Python packages (pip-audit) and the web packages (npm audit).

Fails when an advisory names a package we ship; says "skipped" with the reason when the advisory
database cannot be reached from this machine (offline, or a registry mirror without advisories), so
that `make test` stays offline-safe."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def python_packages() -> int:
    pip_audit = Path(sys.executable).with_name("pip-audit")
    if not pip_audit.exists():
        print("audit: pip-audit skipped: not installed (pip install pip-audit)")
        return 0
    done = subprocess.run(
        [str(pip_audit), "-l", "--vulnerability-service", "pypi", "--format", "json", "--progress-spinner", "off"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        print(f"audit: pip-audit skipped: the advisory database could not be reached ({done.stderr.strip()[-200:]})")
        return 0
    deps = report.get("dependencies", [])
    audited = [d for d in deps if "skip_reason" not in d]
    vulnerable = [d for d in audited if d.get("vulns")]
    if not audited:
        print(f"audit: pip-audit skipped: none of {len(deps)} packages could be audited here (no advisory data)")
        return 0
    for d in vulnerable:
        ids = ", ".join(v["id"] for v in d["vulns"])
        print(f"audit: {d['name']} {d['version']}: {ids}")
    print(f"audit: pip-audit: {len(audited)} of {len(deps)} packages audited, {len(vulnerable)} with advisories")
    return 1 if vulnerable else 0


def web_packages() -> int:
    if shutil.which("npm") is None:
        print("audit: npm audit skipped: npm not found")
        return 0
    done = subprocess.run(
        ["npm", "audit", "--json", "--prefix", str(ROOT / "web")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        report = {}
    if "error" in report or "metadata" not in report:
        said = [ln.removeprefix("npm error").strip() for ln in done.stderr.splitlines() if "log of this run" not in ln]
        reason = (report.get("error") or {}).get("summary") or (said[-1] if said else "no answer")
        print(f"audit: npm audit skipped: the registry's audit endpoint could not be used here ({reason})")
        return 0
    counts = report["metadata"].get("vulnerabilities", {})
    serious = counts.get("high", 0) + counts.get("critical", 0)
    print(f"audit: npm audit: {counts}")
    return 1 if serious else 0


if __name__ == "__main__":
    sys.exit(python_packages() | web_packages())

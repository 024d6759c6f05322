"""Record examples/cache: every model answer the offline demo (examples/demo.sh) replays.

There is no real model here. This script starts a *scripted* OpenAI-compatible server on
127.0.0.1:18080, builds the demo's pull request with examples/demo_repo.sh, and runs
`llm-gate eval` against the server, so that llm-gate's own cache (`--cache-dir`) records every
request of both sides and every judge call. The demo then replays that cache with `--replay`.
The numbers in the demo therefore show how the pipeline behaves, not how good a real model is.

How the scripted model answers (a deterministic function of the request):

- A support request (a case of evals/support.jsonl, found by its message) gets the case's
  full answer below, which names the case's `expected` fact or setting (all but
  `add-teammate`, which paraphrases it, as models do). When the system
  prompt tells the model to "keep answers under one sentence" and not to "mention specific
  settings or plan names", it gets the case's one-sentence answer instead; for the cases whose
  key fact *is* a setting or plan name, that sentence leaves it out. Messages that need an
  order lookup or a person get a tool call either way.
- A judge request (its system message holds the rubric of evals/rubrics/helpful.md) gets
  `{"score": N, "reason": "..."}`: 5 when the judged answer names the expected fact and is of a
  useful length, 4 when it names it but is very short or long, 2 when it does not, 1 when it
  does not and is a bare one-liner; one grade in six (by a hash of the answer) lands a step
  off, as real judges do.
- Latency is 50-300 ms, derived from a hash of the request and the answer's length; token
  usage is about one token per four characters.

Run it after changing anything the demo evaluates (examples/support-bot, examples/changes):

    .venv/bin/python examples/record.py
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

EXAMPLES = Path(__file__).resolve().parent
APP = EXAMPLES / "support-bot"
CACHE = EXAMPLES / "cache"
HOST, PORT = "127.0.0.1", 18080
BASE_URL = f"http://{HOST}:{PORT}/v1"  # demo.sh replays with the same base URL (part of the key)
API_KEY = "sk-demo-recording"  # sent to the scripted server only; never stored in the cache
CREATED = 1_754_035_200  # a fixed `created` timestamp keeps the answers reproducible


@dataclass(frozen=True)
class Scripted:
    """What the scripted model says to one case: prose (full, short) or a tool call."""

    full: str = ""
    short: str = ""
    tool: str = ""
    arguments: tuple[tuple[str, str], ...] = ()


ANSWERS: dict[str, Scripted] = {
    "restore-deleted-folder": Scripted(
        "Yes. Open **Trash** in the left sidebar of the web app, select the folder and click "
        "**Restore**; it goes back to where it was, with everything inside. Deleted items stay "
        "in Trash for 30 days, so last week's folder is still there.",
        "Yes, deleted folders can be restored for 30 days after you delete them.",
    ),
    "restore-old-version": Scripted(
        "Yes. Right-click the file, choose **Version history**, select yesterday's version and "
        "click **Restore**. This morning's copy becomes a version too, so nothing is lost, and "
        "on Plus you can go back up to 30 days.",
        "Yes, restore yesterday's copy from the file's version history.",
    ),
    "version-retention": Scripted(
        "On the Business plan, Acme keeps every version of every file for 180 days, including "
        "versions of deleted files. Open **Version history** on any file to browse and restore "
        "them.",
        "Old versions of files are kept for 180 days.",
    ),
    "free-storage": Scripted(
        "The Free plan includes 5 GB of storage, shared by all your devices and the web app. "
        "You can see what uses it under **Settings → Storage**, and Plus gives you 2 TB if you "
        "need more.",
        "You get 5 GB of storage for free.",
    ),
    "upload-limit": Scripted(
        "Yes: a single file can be up to 50 GB when you upload it with the desktop app or the "
        "API. Uploads in a web browser are limited to 5 GB per file, so use the desktop app "
        "for anything bigger.",
        "A single file can be up to 50 GB.",
    ),
    "enable-2fa": Scripted(
        "Go to **Settings → Security**, click **Turn on two-factor authentication** and scan "
        "the QR code with an authenticator app. Save the recovery codes it shows you somewhere "
        "safe: you need them if you lose your phone. Your team admin can also require it for "
        "everyone in the **Admin Console**.",
        "Turn it on in your account and confirm it with an authenticator app.",
    ),
    "lost-2fa-phone": Scripted(
        "On the sign-in page, click **Use a recovery code** and enter one of the recovery "
        "codes you saved when you turned on two-factor authentication. Once you are in, open "
        "**Settings → Security** to add your new phone and create fresh codes. Without your "
        "codes, reply here and I'll start an identity check, which takes 1–3 business days.",
        "Sign in with one of the recovery codes you saved when you set up two-factor login.",
    ),
    "share-external": Scripted(
        "Right-click the folder, choose **Share → Create shared link** and send the shared "
        "link to the contractor; they can open it in any browser without an account. On Team "
        "you can also make the link view-only and give it an expiration date in **Link "
        "settings**.",
        "Send them a link to the folder; they can open it without an account.",
    ),
    "link-expiry": Scripted(
        "Expiring links need Plus or higher: there, open **Share → Link settings** and set an "
        "**Expiration date**. On Free, links stay active until you delete them, which you can "
        "do any time under **Shared** in the sidebar.",
        "Links can expire automatically, or you can delete a link yourself at any time.",
    ),
    "sync-stuck": Scripted(
        "Click the Acme icon in your menu bar or system tray, choose **Pause syncing**, wait a "
        "few seconds and choose **Resume syncing**; that usually clears a stuck scan. If it is "
        "still stuck, quit the app, check that at least 1 GB of disk space is free and start "
        "it again.",
        "Restart syncing from the desktop app and make sure you have free disk space.",
    ),
    "selective-sync": Scripted(
        "Open **Preferences → Selective Sync** in the desktop app and untick the video archive: "
        "it stays in the cloud and on the web, but is removed from your laptop. Or right-click "
        "the folder and choose **Make online-only** to keep it visible without using space.",
        "You can choose which folders the desktop app keeps on your laptop.",
    ),
    "limit-bandwidth": Scripted(
        "Yes. In the desktop app, open **Preferences → Bandwidth** and set **Upload rate** to "
        "a limit such as 2 MB/s, or choose **Limit automatically**. Your admin can set a "
        "default limit for every device in the **Admin Console**.",
        "Yes, you can cap the desktop app's upload bandwidth.",
    ),
    "invoices": Scripted(
        "Your team admin can download every invoice as a PDF under **Admin Console → Billing "
        "→ Invoices**. To put your VAT number or billing address on future invoices, use "
        "**Billing details** on the same page.",
        "Your account admin can download all invoices as PDFs.",
    ),
    "cancel-plan": Scripted(
        "Go to **Settings → Plan** and click **Cancel plan**: you keep Plus until the end of "
        "the period you paid for, then the account moves to Free. Your files stay, but above "
        "5 GB the account becomes read-only until you free up space.",
        "You can cancel any time and keep your features until the end of the paid period.",
    ),
    "refund-annual": Scripted(
        "Yes: annual plans are refunded in full within 14 days of the charge, so you are well "
        "within the window. Cancel under **Settings → Plan**, then reply with the invoice "
        "number and I'll request the refund; it reaches your card in 5–10 business days.",
        "Yes, annual plans are refunded in full within 14 days of the charge.",
    ),
    "downgrade-over-limit": Scripted(
        "Nothing is deleted: your files stay, but the account becomes read-only, so you can "
        "view, download and delete files but not upload or sync changes until you are under "
        "Free's 5 GB. **Settings → Storage** shows what takes the most space.",
        "Nothing is deleted, but your account becomes read-only until you use less space.",
    ),
    "sso-okta": Scripted(
        "Yes. Business accounts support SAML 2.0 single sign-on with Okta, Microsoft Entra ID "
        "and Google Workspace. Your admin sets it up under **Admin Console → Authentication → "
        "SAML** and can test it with a few users before enforcing it.",
        "Yes, Okta works with our SAML single sign-on.",
    ),
    "eu-data-region": Scripted(
        "Yes. Business accounts can choose the EU data region, which keeps all files and "
        "backups in our Frankfurt data centers. Your admin picks it under **Admin Console → "
        "Data residency**; moving existing data takes up to 48 hours, with no downtime.",
        "Yes, files can be stored in our EU data centers in Frankfurt.",
    ),
    "gdpr-export": Scripted(
        "Go to **Settings → Privacy** and click **Request data export**: within 48 hours we "
        "email you a link to a ZIP of your files and account data. The link works for 7 days.",
        "Ask for it from your account and we'll email you a download link within 48 hours.",
    ),
    "transfer-ownership": Scripted(
        "If the former owner can still sign in, they open **Admin Console → Members**, choose "
        "**Transfer ownership** and pick the new owner. If they can't be reached, reply from a "
        "company email address and I'll open an ownership check; it takes about 2 business "
        "days.",
        "Another admin can take over; if the owner can't be reached, we verify and move it.",
    ),
    "seed-drive-order": Scripted(tool="lookup_order", arguments=(("order_id", "AC-20931"),)),
    "quota-error": Scripted(
        tool="open_ticket",
        arguments=(
            ("summary", "Uploads fail with 'Quota exceeded' at 30% storage use; team blocked"),
            ("category", "sync"),
            ("priority", "urgent"),
        ),
    ),
    "missing-photos": Scripted(
        tool="open_ticket",
        arguments=(
            ("summary", "Photos missing from the 'Wedding 2023' folder and not in Trash"),
            ("category", "data_loss"),
            ("priority", "urgent"),
        ),
    ),
    "api-upload": Scripted(
        "Yes. Create an access token under **Settings → Developer → Access tokens** with the "
        "`files.write` scope, then upload with the `acme` CLI (`acme upload build/ "
        "/CI/artifacts`) or the REST API. Keep the token in your CI system's secrets.",
        "Yes, the Acme API can upload files with a token from your account.",
    ),
    "api-rate-limit": Scripted(
        "Each access token can make 600 requests per minute and upload up to 100 GB a day. "
        "Above that the API answers `429 Too Many Requests` with a `Retry-After` header; "
        "Business accounts can ask for higher limits.",
        "Each token can make 600 requests per minute; above that the API answers 429.",
    ),
    "team-restore": Scripted(
        "Yes, within 30 days: an admin opens **Admin Console → Members**, picks the teammate "
        "and uses **Restore deleted files**, which works even after their Trash was emptied. "
        "The files go back to the shared team folder.",
        "Yes, an admin can restore files deleted in the last 30 days, even from emptied trash.",
    ),
    "add-teammate": Scripted(
        "Admins invite people under **Admin Console → Members → Invite**; the new member joins "
        "when they accept the email. Team costs $8 a user per month billed annually, "
        "prorated for the rest of your billing period.",
        "Invite them from your admin page; each seat costs $8 per user per month.",
    ),
    "password-link": Scripted(
        "Password-protected links need Plus or higher: there, open **Share → Link settings**, "
        "turn on **Require password** and send the password separately. On Free, share with "
        "specific people by email instead, so only they can open it.",
        "Yes, links can require a password, or you can share with specific people by email.",
    ),
    "encryption": Scripted(
        "Yes. Files are encrypted at rest with AES-256 and in transit with TLS 1.2 or later. "
        "Business accounts can also bring their own keys under **Admin Console → Security → "
        "Encryption keys**, and our SOC 2 Type II report is available on request.",
        "Yes, all files are encrypted at rest with AES-256 and in transit with TLS.",
    ),
}


# --------------------------------------------------------------------------- the scripted model


@dataclass(frozen=True)
class Case:
    id: str
    question: str
    expected: str


def load_cases() -> list[Case]:
    """The dataset the demo evaluates, checked against the scripted answers above."""
    cases = []
    for line in (APP / "evals" / "support.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            cases.append(Case(row["id"], row["question"], row["expected"]))
    missing = sorted({c.id for c in cases} - ANSWERS.keys())
    if missing:
        raise SystemExit(f"record.py: no scripted answer for case(s): {', '.join(missing)}")
    for case in cases:
        answer = ANSWERS[case.id]
        if answer.tool and answer.tool != case.expected:
            raise SystemExit(f"record.py: {case.id}: the tool call must be '{case.expected}'")
    return cases


def flat(text: str) -> str:
    return " ".join(text.split()).casefold()


class ScriptedModel:
    """Answers chat-completions bodies; see the module docstring for the rules."""

    def __init__(self, cases: list[Case], rubric: str) -> None:
        self.cases = cases
        self.rubric_title = rubric.strip().splitlines()[0]
        self.served = {"support": 0, "judge": 0}
        self.omitted: set[str] = set()  # cases the one-sentence answer left the fact out of

    def answer(self, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """(assistant message, finish reason); ValueError when the request is not scripted."""
        messages = body.get("messages") or []
        system = next((m["content"] for m in messages if m.get("role") == "system"), "")
        user = next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
        if self.rubric_title in system:
            self.served["judge"] += 1
            return {"role": "assistant", "content": self.judge(user)}, "stop"
        self.served["support"] += 1
        return self.support(system, user)

    def support(self, system: str, user: str) -> tuple[dict[str, Any], str]:
        case = next((c for c in self.cases if c.question in user), None)
        if case is None:
            raise ValueError("no scripted answer for this customer message")
        scripted = ANSWERS[case.id]
        if scripted.tool:
            arguments = json.dumps(dict(scripted.arguments), ensure_ascii=False)
            call_id = "call_" + hashlib.sha256(arguments.encode()).hexdigest()[:24]
            call = {"id": call_id, "type": "function", "function": {}}
            call["function"] = {"name": scripted.tool, "arguments": arguments}
            return {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"
        style = flat(system)
        terse = "under one sentence" in style or "mention specific settings" in style
        text = scripted.short if terse else scripted.full
        if terse and case.expected.casefold() not in text.casefold():
            self.omitted.add(case.id)
        return {"role": "assistant", "content": text}, "stop"

    def judge(self, user: str) -> str:
        expected = re.search(r"^expected: (.*)$", user, re.MULTILINE)
        output = re.search(r"<output>\n(.*)\n</output>\s*\Z", user, re.DOTALL)
        if expected is None or output is None:
            raise ValueError("the judge request has no `expected:` input or no <output>")
        answer, want = output.group(1), expected.group(1).strip()
        words = len(answer.split())
        if want.casefold() in answer.casefold():
            if answer.lstrip().startswith("[") or 20 <= words <= 70:
                score, reason = 5, f"Correct and complete: it gives '{want}' with the steps."
            else:
                score, reason = 4, f"Names '{want}', but leaves out useful detail."
        elif words >= 12:
            score, reason = 2, f"Generic: it never says '{want}', so the customer must search."
        else:
            score, reason = 1, f"Too vague to act on; '{want}' is missing."
        if score in (2, 5) and hashlib.sha256(answer.encode()).digest()[0] % 6 == 0:
            # Judges are noisy too: one grade in six lands a step off.
            score, reason = (
                (4, "Correct, but wordier than it needs to be.")
                if score == 5
                else (3, "Points in the right direction without the specifics.")
            )
        return json.dumps({"score": score, "reason": reason})


def completion(body: dict[str, Any], message: dict[str, Any], finish: str) -> dict[str, Any]:
    """A standard chat.completion object, usage at about four characters a token."""
    prompt = json.dumps(body.get("messages")) + json.dumps(body.get("tools") or "")
    said = message.get("content") or json.dumps(message.get("tool_calls"))
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    prompt_tokens, completion_tokens = math.ceil(len(prompt) / 4), math.ceil(len(said) / 4)
    return {
        "id": f"chatcmpl-{digest[:24]}",
        "object": "chat.completion",
        "created": CREATED,
        "model": body.get("model"),
        "system_fingerprint": "fp_scripted",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def latency_s(body: dict[str, Any], result: dict[str, Any]) -> float:
    """50-300 ms: a fixed part per request (from its hash) plus time per generated token."""
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).digest()
    tokens = result["usage"]["completion_tokens"]
    return min(300, 50 + digest[0] % 40 + 2 * tokens) / 1000


def make_app(model: ScriptedModel) -> web.Application:
    async def chat_completions(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return _error(401, "missing or wrong API key")
        body = await request.json()
        try:
            message, finish = model.answer(body)
        except ValueError as exc:
            return _error(400, f"scripted server: {exc}")
        result = completion(body, message, finish)
        await asyncio.sleep(latency_s(body, result))
        return web.json_response(result)

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat_completions)
    return app


def _error(status: int, message: str) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": "invalid_request_error"}}, status=status
    )


# --------------------------------------------------------------------------- recording


def llm_gate_env(**extra: str) -> dict[str, str]:
    """A clean environment: no runner or provider variables from the shell that runs this."""
    keep = ("HOME", "PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    return {**env, "PYTHONUTF8": "1", "OPENAI_BASE_URL": BASE_URL, **extra}


def llm_gate() -> str:
    sibling = Path(sys.executable).with_name("llm-gate")
    found = str(sibling) if sibling.exists() else shutil.which("llm-gate")
    if found is None:
        raise SystemExit("record.py: `llm-gate` not found; run `make install` first")
    return found


async def record(repo: Path, report: Path) -> int:
    process = await asyncio.create_subprocess_exec(
        llm_gate(), "eval", "--base", "main", "--cache-dir", str(CACHE), "--report", str(report),
        cwd=repo,
        env=llm_gate_env(OPENAI_API_KEY=API_KEY),
    )  # fmt: skip
    return await process.wait()


async def main() -> int:
    cases = load_cases()
    model = ScriptedModel(cases, (APP / "evals" / "rubrics" / "helpful.md").read_text("utf-8"))
    runner = web.AppRunner(make_app(model), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, HOST, PORT).start()
    except OSError as exc:
        await runner.cleanup()
        print(
            f"record.py: cannot listen on {HOST}:{PORT} ({exc.strerror}). The port is part of "
            "every cache key, so it is fixed: stop what uses it and run again.",
            file=sys.stderr,
        )
        return 1
    with tempfile.TemporaryDirectory(prefix="llm-gate-record-") as tmp:
        repo, report = Path(tmp) / "repo", Path(tmp) / "comment.md"
        subprocess.run(
            ["bash", str(EXAMPLES / "demo_repo.sh"), str(repo), "worse-system-prompt"], check=True
        )
        shutil.rmtree(CACHE, ignore_errors=True)  # only what this recording needs
        print(f"record.py: scripted model on {BASE_URL}; recording into {CACHE}", flush=True)
        try:
            recorded = await record(repo, report)
        finally:
            await runner.cleanup()
        print(f"\nrecord.py: llm-gate eval exited {recorded} while recording", flush=True)
        replayed = subprocess.run(
            [llm_gate(), "eval", "--base", "main", "--replay", "--cache-dir", str(CACHE)],
            cwd=repo,
            env=llm_gate_env(),
            capture_output=True,
            text=True,
            check=False,
        )
    return summarize(model, cases, recorded, replayed)


def summarize(
    model: ScriptedModel,
    cases: list[Case],
    recorded: int,
    replayed: subprocess.CompletedProcess[str],
) -> int:
    from gate.cache import ResponseCache

    entries = list(ResponseCache(CACHE).entries())
    files = [path for path in CACHE.rglob("*") if path.is_file()]
    size = sum(f.stat().st_size for f in files)
    problems = []
    for path in files:
        if API_KEY.encode() in path.read_bytes():
            problems.append(f"{path.relative_to(EXAMPLES)} contains the API key")
    for key, request, _completion in entries:
        if request["base_url"] != BASE_URL:
            problems.append(f"cache entry {key} was recorded for another base URL")
    served = sum(model.served.values())
    if not entries or len(entries) != served:
        problems.append(f"{served} requests answered but {len(entries)} cache entries written")
    if recorded not in (0, 1):
        problems.append(f"llm-gate eval failed while recording (exit {recorded})")
    if replayed.returncode != recorded:
        problems.append(
            f"the replay exited {replayed.returncode}, the recording {recorded}:\n"
            + replayed.stdout[-2000:]
            + replayed.stderr[-2000:]
        )
    print(
        f"record.py: {model.served['support']} generation and {model.served['judge']} judge "
        f"requests; the one-sentence prompt dropped the expected fact in "
        f"{len(model.omitted)} of {len(cases)} cases ({', '.join(sorted(model.omitted))})\n"
        f"record.py: {CACHE.relative_to(EXAMPLES.parent)}: {len(entries)} entries, "
        f"{size / 1024:.0f} KiB; the replay (--replay, no key) exited {replayed.returncode}"
    )
    for problem in problems:
        print(f"record.py: error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

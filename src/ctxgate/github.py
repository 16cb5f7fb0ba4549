"""``check --format github``: the runner integration (SPEC §9).

Annotations and the human text go to stdout, the markdown summary to
``$GITHUB_STEP_SUMMARY``, outputs to ``$GITHUB_OUTPUT``, the JSON report to a
file, and on pull requests a sticky comment. Without the runner's variables
only stdout is written.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import secrets
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

from ctxgate import git
from ctxgate.budget import Result
from ctxgate.commands.common import use_color
from ctxgate.errors import FatalError
from ctxgate.github_api import COMMENT_LIMIT, MARKER, ApiError, Client
from ctxgate.report import github_summary, json_report, text
from ctxgate.report.fmt import first_paths

SUMMARY_LIMIT = 1024 * 1024  # GitHub rejects a step summary of 1 MiB or more
MAX_ANNOTATIONS = 10  # per kind; GitHub shows no more than that per step
PR_EVENTS = ("pull_request", "pull_request_target")
OFF = ("false", "0", "no", "off")


def escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s: str) -> str:
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **props: str) -> str:
    """One workflow command line; no value can end it early or start another."""
    attrs = ",".join(f"{k}={escape_property(v)}" for k, v in props.items())
    return f"::{name}{' ' + attrs if attrs else ''}::{escape_data(message)}"


def workflow_annotations(result: Result) -> list[str]:
    """At most MAX_ANNOTATIONS errors and warnings, worst first, one per component."""
    blocked = sorted(result.blocked, key=lambda c: (not c.verdict.emergency, -c.usage.footprint))
    errors = [command("error", f"{c.name}: {c.verdict.message}",
                      title=f"ctxgate: {'EMERGENCY' if c.verdict.emergency else 'blocked'} {c.name}")
              for c in blocked]
    warned = sorted(result.warned, key=github_summary.rank)  # the job summary's order
    warnings = [command("warning", f"{c.name}: {c.verdict.message}", title=f"ctxgate: {c.name}")
                for c in warned]
    if result.unowned_touched:
        files = first_paths(result.unowned_touched)
        kind = errors if result.unowned_policy == "error" else warnings
        kind.append(command("error" if kind is errors else "warning",
                            f"files owned by no component: {files}", title="ctxgate: unowned files"))
    out = errors[:MAX_ANNOTATIONS] + warnings[:MAX_ANNOTATIONS]
    hidden = max(0, len(errors) - MAX_ANNOTATIONS) + max(0, len(warnings) - MAX_ANNOTATIONS)
    if hidden:
        out.append(f"ctxgate: {hidden} more problems are not annotated (at most {MAX_ANNOTATIONS} "
                   "of each kind); see the job summary")
    return out


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def printable(s: str) -> str:
    """Control characters as escapes, so one name stays on one line."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], s)


def for_display(result: Result) -> Result:
    comps = tuple(dataclasses.replace(c, component=dataclasses.replace(c.component, name=printable(c.name)))
                  for c in result.components)
    return dataclasses.replace(result, components=comps,
                               unowned_touched=tuple(printable(p) for p in result.unowned_touched))


def defuse(rendered: str) -> str:
    """Keep a hostile name in the human text from reading as a workflow command.

    The runner treats a line that starts with ``::`` (after blanks) or holds
    ``##[`` as a command; such lines only occur when a name was made to look
    like one, so they are spoiled visibly rather than escaped.
    """
    lines = []
    for line in rendered.split("\n"):
        if line.lstrip().startswith("::") or "##[" in line:
            line = line.replace("::", ": :").replace("##[", "# #[")
        lines.append(line)
    return "\n".join(lines)


def print_text(result: Result, args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> None:
    rendered = defuse(text.render_check(for_display(result), use_color(args, out)))
    if env.get("GITHUB_ACTIONS") != "true":
        out.write(rendered)
        return
    # stop-commands makes the runner ignore commands until the random token
    # comes back: a second guard for the human text.
    token = secrets.token_hex(16)
    out.write(f"::stop-commands::{token}\n{rendered}::{token}::\n")


def report_path(args: argparse.Namespace, env: Mapping[str, str]) -> str | None:
    if args.output:
        return str(args.output)
    folder = env.get("RUNNER_TEMP") or (os.path.dirname(env["GITHUB_OUTPUT"]) if env.get("GITHUB_OUTPUT") else "")
    if not folder or not os.path.isdir(folder):
        return None
    fd, path = tempfile.mkstemp(prefix="ctxgate-report-", suffix=".json", dir=folder)
    os.close(fd)
    return path


def write_report(result: Result, path: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(json_report.render(result))
    except OSError as e:
        raise FatalError(f"cannot write the JSON report {path}: {e.strerror}; check the --output path") from None


def output_block(name: str, value: str) -> str:
    """``name<<DELIM`` form: safe for any value, newlines included."""
    while True:
        delim = f"ghadelimiter_{secrets.token_hex(16)}"
        if delim not in value:
            return f"{name}<<{delim}\n{value}\n{delim}\n"


def append(path: str, data: str, what: str, out: TextIO) -> None:
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(data)
    except OSError as e:
        out.write(command("warning", f"cannot write the {what} to {path}: {e.strerror}", title="ctxgate") + "\n")


def write_summary(result: Result, env: Mapping[str, str], out: TextIO) -> None:
    path = env.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    try:
        used = os.path.getsize(path)
    except OSError:
        used = 0
    room = SUMMARY_LIMIT - 1 - used
    summary = github_summary.render(result, limit=room, run_url=run_url(env))
    if summary:
        append(path, summary, "job summary", out)


def run_url(env: Mapping[str, str]) -> str | None:
    parts = [env.get(k, "") for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")]
    return f"{parts[0].rstrip('/')}/{parts[1]}/actions/runs/{parts[2]}" if all(parts) else None


@dataclass(frozen=True)
class CommentPlan:
    number: int
    client: Client


def pr_number(event_path: str | None) -> int | None:
    if not event_path:
        return None
    try:
        with open(event_path, encoding="utf-8") as f:
            event = json.load(f)
    except (OSError, ValueError):
        return None
    pr = event.get("pull_request") if isinstance(event, dict) else None
    number = pr.get("number") if isinstance(pr, dict) else None
    if number is None and isinstance(event, dict):
        number = event.get("number")
    return number if isinstance(number, int) and not isinstance(number, bool) else None


def plan_comment(env: Mapping[str, str]) -> CommentPlan | str | None:
    """What to do about the comment: a plan, a reason to warn, or None to stay quiet.

    ``CTXGATE_COMMENT`` false turns it off; true asks for it (so its absence is
    worth a warning); unset comments whenever a pull request and a token allow.
    """
    setting = env.get("CTXGATE_COMMENT", "").strip().lower()
    if setting in OFF or env.get("GITHUB_EVENT_NAME") not in PR_EVENTS:
        return None
    explicit = setting not in ("", "auto")
    token = env.get("CTXGATE_GITHUB_TOKEN") or env.get("GITHUB_TOKEN")
    repo = env.get("GITHUB_REPOSITORY")
    number = pr_number(env.get("GITHUB_EVENT_PATH"))
    if not token:
        return "no token to comment with: set the github-token input (or GITHUB_TOKEN)" if explicit else None
    if not repo or number is None:
        return "cannot tell which pull request to comment on (GITHUB_REPOSITORY, GITHUB_EVENT_PATH)"
    api = env.get("GITHUB_API_URL") or "https://api.github.com"
    return CommentPlan(number, Client(api, repo, token))


def comment(result: Result, env: Mapping[str, str], out: TextIO) -> None:
    plan = plan_comment(env)
    if plan is None:
        return
    if isinstance(plan, str):
        out.write(command("warning", f"no pull request comment: {plan}", title="ctxgate") + "\n")
        return
    prefix = MARKER + "\n"
    body = github_summary.render(result, limit=COMMENT_LIMIT, measure=github_summary.utf16_size,
                                 run_url=run_url(env), prefix=prefix)
    try:
        action, cid = plan.client.upsert(plan.number, body)
    except ApiError as e:
        why = (" (pull requests from forks and read-only tokens cannot comment; give the workflow "
               "`permissions: pull-requests: write`)") if e.denied else ""
        status = f"HTTP {e.status}: " if e.status else ""
        out.write(command("warning", f"could not comment on pull request #{plan.number}: {status}{e.message}"
                          f"{why}; the gate result is unaffected", title="ctxgate") + "\n")
        return
    out.write(f"ctxgate: {action} comment {cid} on pull request #{plan.number}\n")


def publish(result: Result, args: argparse.Namespace, env: Mapping[str, str] | None = None) -> None:
    """Everything ``--format github`` produces; the exit code stays the caller's."""
    env = os.environ if env is None else env
    out = sys.stdout
    path = report_path(args, env)
    if path is not None:
        write_report(result, path)
    for line in workflow_annotations(result):
        out.write(line + "\n")
    if not (args.quiet and result.status == "pass"):
        print_text(result, args, env, out)
    write_summary(result, env, out)
    if env.get("GITHUB_OUTPUT"):
        outputs = {"status": result.status, "blocked": ",".join(c.name for c in result.blocked),
                   "report": path or ""}
        append(env["GITHUB_OUTPUT"], "".join(output_block(k, v) for k, v in outputs.items()), "outputs", out)
    out.flush()
    comment(result, env, out)


def missing_base(root: str, base_ref: str | None, err: FatalError) -> FatalError:
    """Explain a base that cannot be found the way a workflow author can act on."""
    if base_ref is None:
        return err
    try:
        shallow = git.run(["rev-parse", "--is-shallow-repository"], root).strip() == b"true"
    except FatalError:
        shallow = False
    try:
        git.run(["cat-file", "-e", f"{base_ref}^{{commit}}"], root)
        present = True
    except FatalError:
        present = False
    if present and not shallow:
        return err
    where = "this clone is shallow" if shallow else "that commit is not in this clone"
    msg = (f"cannot compare with base {base_ref!r}: {where}; check out the full history with "
           "actions/checkout and `fetch-depth: 0` (or run `git fetch --unshallow`), "
           "or set the action's `base` input to a commit that is present")
    sys.stdout.write(command("error", msg, title="ctxgate: base commit missing") + "\n")
    return FatalError(msg)

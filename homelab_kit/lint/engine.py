"""Run the selected checks over a repository and collect their findings."""

from __future__ import annotations

import contextlib
import os
import signal
import struct
import time
import types
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import attrs

from homelab_kit.claims import Claims, unnamed_file
from homelab_kit.config import Config
from homelab_kit.diagnostic import Diagnostic, Severity
from homelab_kit.errors import PluginError
from homelab_kit.lint.check import Check
from homelab_kit.lint.result import CheckInfo, LintResult
from homelab_kit.lint.spans import with_ends
from homelab_kit.location import Location
from homelab_kit.model.clusters import owner
from homelab_kit.model.repo import Repo
from homelab_kit.plugins import PluginManager
from homelab_kit.yaml import Suppression

if TYPE_CHECKING:
    from homelab_kit.lint.reuse import Reuse

INTERNAL_ERROR_ID = "internal-error"
UNUSED_SUPPRESSION_ID = "unused-suppression"


def registered_checks(pm: PluginManager) -> list[Check]:
    """Every check every plugin registered, in ID order; duplicate IDs are an error."""
    checks: dict[str, Check] = {}
    for plugin_name, item in pm.registered("homelab_kit_register_checks"):
        if isinstance(item, types.ModuleType):
            check = Check.from_module(item, plugin=plugin_name)
        elif isinstance(item, Check):
            check = attrs.evolve(item, plugin=item.plugin or plugin_name)
        else:
            raise PluginError(
                f"plugin {plugin_name!r} registered {item!r}, which is not a check module or Check"
            )
        check.validate()
        if check.id in checks:
            raise PluginError(
                f"check ID {check.id!r} is registered by both {checks[check.id].plugin!r} "
                f"and {plugin_name!r}"
            )
        checks[check.id] = check
    return [checks[k] for k in sorted(checks)]


def selected_checks(checks: Sequence[Check], config: Config) -> list[Check]:
    """The checks the configuration selects (its preset, select, extend-select, ignore).

    Unknown check IDs, selectors and option values are configuration errors.
    """
    from homelab_kit.lint.selection import resolve

    return resolve(checks, config)


def run_checks(
    repo: Repo,
    checks: Sequence[Check],
    config: Config,
    *,
    started: float | None = None,
    tool_version: str = "",
    progress: Callable[[str, int, int], None] | None = None,
    jobs: int = 1,
    known: Collection[str] = (),
    reuse: Reuse | None = None,
) -> LintResult:
    """Run ``checks`` over ``repo``; a check that raises becomes one internal error.

    ``known`` are every registered check's ID: a suppression comment naming any
    other is reported (``unused-suppression``) with the closest known ID.

    ``progress``, when given, is called as ``progress("check", done, total)``.
    ``jobs`` > 1 spreads the checks over that many processes (forked, so they share
    the loaded repository and what :func:`build_shared` builds first); the findings
    are the same, in the same order.

    ``reuse``, when given, answers the checks that declare a scope from the results
    kept by the previous run where what they read is unchanged (and keeps this
    run's): :mod:`homelab_kit.lint.reuse`.  The findings are the same.
    """
    started = time.perf_counter() if started is None else started
    outcomes = _run_all(repo, checks, config, progress, jobs, reuse)
    raw: list[Diagnostic] = []
    for check, (crashed, found) in zip(checks, outcomes, strict=True):
        if crashed:
            raw += found
            continue
        configured = config.severity.get(check.id)
        if check.live:  # objects no cluster deploys are not live: not judged as such
            found = [d for d in found if repo.is_deployed(d.location.path)]
        for diag in found:
            raw.append(
                attrs.evolve(
                    diag,
                    check_id=check.id,
                    severity=configured or diag.severity,
                    remediation=diag.remediation or check.remediation,
                )
            )
    if progress is not None:
        progress("check", len(checks), len(checks))
    selected_ids = {c.id for c in checks}
    kept, suppressed = _apply_suppressions(repo, raw, config, selected_ids, frozenset(known))
    diagnostics = tuple(sorted(set(with_ends(repo.root, _name_clusters(repo, kept)))))
    return LintResult(
        root=repo.root,
        diagnostics=diagnostics,
        checks=tuple(
            CheckInfo(c.id, config.severity.get(c.id, c.severity), c.summary, c.plugin, c.fixable)
            for c in checks
        ),
        files=len(repo.files),
        apps=len(repo.apps),
        namespaces=len(repo.namespaces),
        suppressed=suppressed,
        duration=time.perf_counter() - started,
        tool_version=tool_version,
    )


def _name_clusters(repo: Repo, diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """Each finding in a file only one of several clusters has names that cluster.

    A check that knows better (a shared file applied differently per cluster) sets
    ``cluster`` itself; that is kept.
    """
    if len(repo.clusters) < 2:
        return list(diagnostics)
    owners: dict[str, str | None] = {}
    out: list[Diagnostic] = []
    for diag in diagnostics:
        path = diag.location.path
        if diag.cluster is None:
            if path not in owners:
                # What no cluster deploys is about no cluster, whatever folder it is in.
                owners[path] = owner(repo.clusters, path) if repo.is_deployed(path) else None
            if owners[path] is not None:
                diag = attrs.evolve(diag, cluster=owners[path])
        out.append(diag)
    return out


Outcome = tuple[bool, list[Diagnostic]]  # (crashed, its diagnostics or the internal error)


def _options(check: Check, config: Config) -> Any:
    return (
        check.build_options(
            config.check_options.get(check.id, {}),
            config.check_option_locations.get(check.id),
        )
        if check.id in config.check_options
        else check.default_options()
    )


def _run_one(repo: Repo, check: Check, config: Config, options: Any = None) -> Outcome:
    """The diagnostics of one check, or the one internal error it crashed with.

    ``options``: the check's options when the caller built them already.
    """
    if options is None:
        options = _options(check, config)
    try:
        found: list[Any] = list(check.function(repo, options))
    except Exception as exc:  # isolation: one plugin's bug must not stop the others
        crash = Diagnostic(
            Location("."),
            INTERNAL_ERROR_ID,
            f"check {check.id} (plugin {check.plugin}) crashed: "
            f"{type(exc).__name__}: {_first_line(exc)}",
            Severity.ERROR,
            "Report this to the plugin's authors; other checks still ran.",
        )
        return True, [crash]
    return False, [d for d in found if isinstance(d, Diagnostic)]


def _runner(check: Check, config: Config, options: Any) -> Callable[[Repo], Outcome]:
    """``check`` with ``options``, over the repository it is given."""

    def run(repo: Repo) -> Outcome:
        return _run_one(repo, check, config, options)

    return run


def build_shared(repo: Repo, checks: Iterable[Check] = ()) -> None:
    """Build what checks of several plugins read, before check processes are forked.

    Built on first use, each forked process would build it again (the desired state
    of every cluster is about a second of CPU at 1,000 apps); built here, every
    process inherits it copy-on-write.  This process needs the desired state after
    the checks anyway (which cluster a finding is about, whether a file is live), so
    building it first costs nothing extra.  Of the indexes ``checks`` declare
    (:attr:`Check.shared`), those that checks of more than one plugin declare are
    built here too (the Secrets and ConfigMaps the clusters create, read by the Flux,
    secret and Helm checks).  Indexes only one plugin reads are left to the process
    that runs it: built here they would only add to the time nothing runs in
    parallel (docs/performance.md, "Processes: --jobs").
    """
    from homelab_kit.model.applied import applied_documents

    repo.is_deployed("")  # the clusters' desired state, and what they deploy
    applied_documents(repo)
    for index in shared_indexes(checks):
        index(repo)


def shared_indexes(checks: Iterable[Check]) -> list[Callable[[Repo], object]]:
    """The indexes (:attr:`Check.shared`) that checks of more than one plugin declare,
    in the order first declared."""
    plugins: dict[Callable[[Repo], object], set[str]] = {}
    for check in checks:
        for index in check.shared:
            plugins.setdefault(index, set()).add(check.plugin)
    return [index for index, named in plugins.items() if len(named) > 1]


# What forked check processes work on (set just before they are forked).
_FORKED: tuple[Repo, Sequence[Check], Config, Reuse | None] | None = None


def _run_group(numbers: Sequence[int]) -> bytes | None:
    """In a forked process: the outcome of ``checks[n]`` for each number and what
    the checks kept (:meth:`Reuse.share`, with the cache) for the next run, pickled
    together; None when the outcomes do not pickle (the group runs again in the
    process that forked this one, whose own records then count it)."""
    import pickle

    assert _FORKED is not None
    repo, checks, config, reuse = _FORKED
    if reuse is not None:
        reuse.forked()  # this group's share only: what the process did before went back
    found = [_run_one(repo, checks[n], config) for n in numbers]
    try:
        return pickle.dumps((found, reuse.share() if reuse is not None else None))
    except Exception:  # an unpicklable diagnostic (a fix holding a function)
        return None


def _groups(checks: Sequence[Check], numbers: Iterable[int]) -> list[list[int]]:
    """Check numbers by plugin: a plugin's checks share the indexes they build."""
    by_plugin: dict[str, list[int]] = {}
    for number in numbers:
        by_plugin.setdefault(checks[number].plugin, []).append(number)
    return list(by_plugin.values())


def claim_order(costs: Sequence[float]) -> list[int]:
    """The order in which to lay out groups of checks costing ``costs`` (their checks'
    :attr:`Check.cost`) for two processes claiming from either end.

    A worker claims from the front and this process from the back, one group at a
    time (:func:`_dispatch`), so the last group claimed decides how long the other
    process waits.  The groups with a cost are dealt, largest first, to the end whose
    process would be free first (longest processing time first), so both start on
    the largest and meet on the smallest; they take the places the groups with a
    cost held, and a group without one (0: unknown) keeps its own place.
    """
    costed = [i for i, cost in enumerate(costs) if cost > 0]
    front: list[int] = []
    back: list[int] = []
    ends = [0.0, 0.0]
    for i in sorted(costed, key=lambda i: (-costs[i], i)):
        end = 0 if ends[0] <= ends[1] else 1
        (front, back)[end].append(i)
        ends[end] += costs[i]
    order = list(range(len(costs)))
    for place, i in zip(costed, front + back[::-1], strict=True):
        order[place] = i
    return order


def _run_all(
    repo: Repo,
    checks: Sequence[Check],
    config: Config,
    progress: Callable[[str, int, int], None] | None,
    jobs: int,
    reuse: Reuse | None = None,
) -> list[Outcome]:
    """Each check's outcome, in ``checks`` order, over ``jobs`` processes.

    Plugins' groups of checks are claimed one at a time (:class:`Claims`): forked
    worker processes from the front, this process from the back, so no process
    holds a group it has not started.  A worker sends each group's outcome back as
    it finishes it; a group whose outcome does not pickle or unpickle, or that a
    worker never delivered (it died), runs here.  Checks ``reuse`` may answer
    (those with a scope) run here, first; what a worker's checks keep per object
    comes back with their findings and is merged into ``reuse`` (:meth:`Reuse.merge`).
    """
    results: list[Outcome | None] = [None] * len(checks)

    def done(numbers: Sequence[int], found: Sequence[Outcome]) -> None:
        for n, outcome in zip(numbers, found, strict=True):
            results[n] = outcome
        if progress is not None:
            progress("check", sum(r is not None for r in results), len(checks))

    def run_here(group: Sequence[int]) -> None:
        done(group, [_run_one(repo, checks[n], config) for n in group])

    if progress is not None:
        progress("check", 0, len(checks))
    numbers: Iterable[int] = range(len(checks))
    if reuse is not None:
        for n, check in enumerate(checks):
            if check.scope is not None:
                options = _options(check, config)
                done([n], [reuse.run(check, options, _runner(check, config, options))])
        numbers = [n for n, check in enumerate(checks) if check.scope is None]
    groups = _groups(checks, numbers)
    if jobs > 1 and len(groups) > 1 and _can_fork():  # 0 (auto) runs here
        if reuse is None:  # COST is a cold run's: with the cache, check-ID order
            costs = [sum(checks[n].cost for n in group) for group in groups]
            groups = [groups[i] for i in claim_order(costs)]
        import pickle

        def delivered(index: int, blob: bytes) -> None:
            try:
                found, shared = pickle.loads(blob)
            except Exception:  # an outcome that does not unpickle here: runs here, below
                return
            if reuse is not None:
                reuse.merge(shared)
            done(groups[index], found)

        global _FORKED
        _FORKED = (repo, checks, config, reuse)
        build_shared(repo, [checks[n] for group in groups for n in group])
        try:
            _dispatch(groups, min(jobs, len(groups)) - 1, run_here, delivered)
        except OSError:
            pass  # no processes to be had here (a sandbox): what is left runs here
        finally:
            _FORKED = None
    for group in groups:  # in one process, or what no worker delivered
        if results[group[0]] is None:
            run_here(group)
    return [r or (False, []) for r in results]


_FRAME = struct.Struct("<ii")  # a group's index, the length of its pickle in the file


def _dispatch(
    groups: Sequence[Sequence[int]],
    workers: int,
    run_here: Callable[[Sequence[int]], None],
    delivered: Callable[[int, bytes], None],
) -> None:
    """Run ``groups`` over this process and up to ``workers`` forked ones.

    Each worker writes each group's pickled outcome (:func:`_run_group`) to its own
    unnamed file and then its index and length to its own pipe (a few bytes: a
    worker never waits for this process to read), and claims the next group.  This
    process runs a group from the back, then hands what came back to ``delivered``,
    until no group is left; then waits for the workers' last groups.  Workers are
    killed and reaped on the way out, whatever happened; what they did not deliver
    is left to the caller.
    """
    claims = Claims(len(groups), "homelab-kit-claims")
    parent = os.getpid()
    workers_: list[tuple[int, int, int]] = []  # (pid, read end of its pipe, its file)
    try:
        for _ in range(workers):
            try:
                out = unnamed_file("homelab-kit-outcomes")
            except OSError:
                break
            try:
                read, write = os.pipe()
            except OSError:  # no descriptors left: this one does the rest
                os.close(out)
                break
            try:
                pid = os.fork()
            except OSError:  # no more processes: this one does the rest
                for fd in (read, write, out):
                    os.close(fd)
                break
            if pid == 0:  # the worker: it never returns into the caller
                others = [fd for w in workers_ for fd in w[1:]]
                _work(claims, groups, parent, write, out, [*others, read])
            os.close(write)
            workers_.append((pid, read, out))
        pending = {read: (bytearray(), out, [0]) for _, read, out in workers_}
        for read in pending:
            os.set_blocking(read, False)
        while (index := claims.take(front=False)) is not None:
            run_here(groups[index])
            for read, (buffer, out, offset) in pending.items():
                _drain(read, buffer, out, offset, delivered, block=False)
        for read, (buffer, out, offset) in pending.items():
            os.set_blocking(read, True)
            _drain(read, buffer, out, offset, delivered, block=True)
    finally:
        for pid, read, out in workers_:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.waitpid(pid, 0)
            os.close(read)
            os.close(out)
        claims.close()


def _work(
    claims: Claims,
    groups: Sequence[Sequence[int]],
    parent: int,
    pipe: int,
    out: int,
    others: Sequence[int],
) -> NoReturn:
    """A forked worker: claim groups from the front and deliver each, until none is
    left or the process that forked it has gone."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the main process ends it
        for fd in others:
            os.close(fd)
        while os.getppid() == parent and (index := claims.take(front=True)) is not None:
            blob = _run_group(groups[index])
            if blob is None:
                continue  # not delivered: it runs in the main process
            view = memoryview(blob)
            while view:
                view = view[os.write(out, view) :]
            os.write(pipe, _FRAME.pack(index, len(blob)))
        code = 0
    finally:
        os._exit(code)


def _drain(
    read: int,
    buffer: bytearray,
    out: int,
    offset: list[int],
    delivered: Callable[[int, bytes], None],
    block: bool,
) -> None:
    """Hand what a worker delivered (the frames on its pipe, each pickle at
    ``offset`` in its file) to ``delivered``; with ``block``, until the worker has
    closed its pipe (it ended, or died)."""
    while True:
        try:
            data = os.read(read, 1 << 16)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        buffer += data
        while len(buffer) >= _FRAME.size:
            index, length = _FRAME.unpack_from(buffer)
            del buffer[: _FRAME.size]
            blob = os.pread(out, length, offset[0])
            offset[0] += length
            delivered(index, blob)
        if not data:
            return


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else "(no message)"


def _apply_suppressions(
    repo: Repo,
    diagnostics: Iterable[Diagnostic],
    config: Config,
    selected: set[str],
    known: frozenset[str],
) -> tuple[list[Diagnostic], int]:
    used: set[tuple[str, int, int]] = set()
    kept: list[Diagnostic] = []
    suppressed = 0
    for diag in diagnostics:
        path = diag.location.path
        if diag.check_id != INTERNAL_ERROR_ID and config.ignored_at(diag.check_id, path):
            suppressed += 1
            continue
        yfile = repo.files.get(path)
        hit = _suppressing(yfile, diag) if yfile is not None else None
        if hit is not None and diag.check_id != INTERNAL_ERROR_ID:
            used.add((path, hit.line, hit.column))
            suppressed += 1
            continue
        kept.append(diag)
    if UNUSED_SUPPRESSION_ID in selected:
        severity = config.severity.get(UNUSED_SUPPRESSION_ID, Severity.WARNING)
        for path, yfile in repo.files.items():
            for sup in yfile.suppressions:
                if config.ignored_at(UNUSED_SUPPRESSION_ID, path):
                    continue
                kept += _unknown_ids(path, sup, known, severity)
                if (path, sup.line, sup.column) in used:
                    continue
                if sup.check_ids and not any(i in selected for i in sup.check_ids):
                    continue  # names only checks that did not run: nothing to judge
                names = ", ".join(sup.check_ids) or "all checks"
                kept.append(
                    Diagnostic(
                        Location(path, sup.line, sup.column),
                        UNUSED_SUPPRESSION_ID,
                        f"suppression of {names} suppresses nothing",
                        severity,
                        "Remove the comment, or fix its check ID or placement.",
                    )
                )
    return kept, suppressed


def _unknown_ids(
    path: str, sup: Suppression, known: frozenset[str], severity: Severity
) -> list[Diagnostic]:
    """A finding for each check ID a suppression names that no plugin registered."""
    from homelab_kit.lint.selection import did_you_mean

    if not known:
        return []
    return [
        Diagnostic(
            Location(path, sup.line, sup.column),
            UNUSED_SUPPRESSION_ID,
            f"suppression names unknown check {check_id!r}{did_you_mean(check_id, known)}",
            severity,
            "Fix the check ID; `homelab-kit rules` lists them.",
        )
        for check_id in sup.check_ids
        if check_id not in known and check_id != INTERNAL_ERROR_ID
    ]


def _suppressing(yfile: Any, diag: Diagnostic) -> Suppression | None:
    line = diag.location.line
    for sup in yfile.suppressions:
        if sup.check_ids and diag.check_id not in sup.check_ids:
            continue
        if sup.scope == "file":
            return sup  # type: ignore[no-any-return]
        if sup.scope == "line" and line == sup.target_line:
            return sup  # type: ignore[no-any-return]
        if sup.scope == "document" and line > 0:
            doc = yfile.document_at(sup.line)
            if doc is not None and doc.start_line <= line <= doc.end_line:
                return sup  # type: ignore[no-any-return]
    return None

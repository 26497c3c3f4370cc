"""Tessellate elements with ifcopenshell's geometry iterator, in parallel, retrying failures.

Shapes come out in each element's *local* frame plus a placement matrix, so the iterator
tessellates a representation shared by many elements (a type's mapped geometry) once and
we place the copies with numpy: on the corpus' Janesville restaurant that is 3.8 s
against 14.4 s in world coordinates.

The work runs in forked worker processes, one per core, each iterating with one thread.
Threads do not help the expensive part: ifcopenshell performs the boolean cuts of
openings one at a time inside a process (a generated 10k-element building's 1,872 walls
with openings: 9.7 s on 1 thread, 13.6 s on 2 threads, 7.5 s in 2 processes). Forking
right after the file is parsed shares the parsed model with the workers copy-on-write,
so nothing is parsed twice.

Work is cut into chunks that never split a group of elements sharing a representation:
given only part of such a group (say half of 14,896 slabs mapping one type), the
iterator processes members it was not asked for and gets ~100× slower (300 of those
slabs: 10.4 s; all 15,457 slabs: 3.7 s). Workers claim chunks, biggest first, from a
counter in shared memory, so they stay busy while this process extracts properties.

Elements the first kernel cannot tessellate are retried with the next; what still fails
is returned as ``GeometryFailure`` with the kernel's own reason. A worker that crashes
(a kernel segfault on malformed geometry) has its slice split and re-run until the
element responsible is found and reported. A failing element never aborts the model.
"""

from __future__ import annotations

import heapq
import json
import multiprocessing
import multiprocessing.connection
import os
import pickle
import re
import shutil
import signal
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import ifcopenshell
import ifcopenshell.geom
import ifcopenshell.ifcopenshell_wrapper as wrapper
import numpy as np

from .records import GeometryFailure

__all__ = [
    "DEFAULT_KERNELS",
    "PlacedShape",
    "Shape",
    "Tessellation",
    "TessellationResult",
    "default_threads",
    "default_workers",
    "expects_geometry",
    "iterator_settings",
    "placed_box_corners",
]

ProgressCallback = Callable[[str, int, int], None]

#: Kernels in the order they are tried. The hybrid kernel runs simple solids through
#: CGAL and hands the rest to OpenCASCADE: 5.8 s against 175 s for plain OpenCASCADE on
#: Janesville (DESIGN.md). OpenCASCADE alone still rescues shapes hybrid leaves empty
#: (ten surface-model cabinets of the corpus' Duplex).
DEFAULT_KERNELS = ("hybrid-cgal-simple-opencascade", "opencascade")

# Representations that never yield triangles with SURFACES_AND_SOLIDS: plan symbols,
# axes, footprints. An element with only these is not a geometry failure.
_NON_BODY_IDENTIFIERS = frozenset(
    {"Axis", "FootPrint", "Annotation", "Profile", "CoG", "Clearance", "Lighting"}
)
_NON_SOLID_TYPES = frozenset(
    {"Curve2D", "Curve", "Curve3D", "Annotation2D", "Point", "PointCloud", "GeometricCurveSet"}
)
_PRODUCT_REF = re.compile(r"^#(\d+)=")
_PROGRESS_EVERY = 200  # shapes between progress messages
_CHUNKS_PER_WORKER = 4  # enough to even out the workers' loads, few enough to start cheaply
# Relative costs for balancing chunks, in units of one plain tessellation: an element with
# openings pays a boolean cut per element (~10 ms against ~0.4 ms for an extrusion in a
# generated 100k-element building); further members of a group sharing a representation
# only pay for their placement.
_OPENING_COST = 20.0
_SHARED_COST = 0.1
_CRASH_REASON = "the geometry kernel crashed on this element"
_VOIDED_REASON = "its openings cut away the whole element (it has geometry without them)"


@dataclass(frozen=True, slots=True)
class Shape:
    """A tessellated representation in its local frame, shared by all its placements.

    ``positions_m``: (n, 3) float64 metres. ``triangles``: (m, 3) uint32 indices into
    positions. ``rgba``: (n, 4) uint8 linear-light colour per vertex from the IFC styles
    (vertices are split where faces of different styles meet, so each keeps one colour).
    """

    positions_m: np.ndarray
    triangles: np.ndarray
    rgba: np.ndarray


@dataclass(frozen=True, slots=True)
class PlacedShape:
    """One element's geometry: a shared ``Shape`` and the 4×4 matrix (metres) placing it
    in the project's engineering frame (Z up)."""

    step_id: int
    shape_key: str
    matrix: np.ndarray


@dataclass(slots=True)
class TessellationResult:
    """Placed shapes ordered by step id, their shapes, and the failures."""

    placed: list[PlacedShape] = field(default_factory=list)
    shapes: dict[str, Shape] = field(default_factory=dict)
    failures: list[GeometryFailure] = field(default_factory=list)
    retried: int = 0

    @property
    def triangle_count(self) -> int:
        return sum(len(self.shapes[p.shape_key].triangles) for p in self.placed)


def placed_box_corners(placed: Sequence[PlacedShape], shapes: dict[str, Shape]) -> np.ndarray:
    """(n, 8, 3) corners of each placed shape's local bounding box, in the project's
    engineering frame (metres)."""
    boxes: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for p in placed:
        if p.shape_key not in boxes:
            positions = shapes[p.shape_key].positions_m
            boxes[p.shape_key] = (positions.min(axis=0), positions.max(axis=0))
    signs = np.array([[(i >> a) & 1 for a in range(3)] for i in range(8)], dtype=np.float64)
    lows = np.array([boxes[p.shape_key][0] for p in placed])
    highs = np.array([boxes[p.shape_key][1] for p in placed])
    corners = lows[:, None, :] + signs[None, :, :] * (highs - lows)[:, None, :]
    matrices = np.stack([p.matrix for p in placed])
    return np.einsum("nij,nkj->nki", matrices[:, :3, :3], corners) + matrices[:, None, :3, 3]


def expects_geometry(element: ifcopenshell.entity_instance) -> bool:
    """True if ``element`` has a representation the iterator should turn into triangles."""
    shape = element.Representation
    if shape is None:
        return False
    return any(
        rep.RepresentationIdentifier not in _NON_BODY_IDENTIFIERS
        and rep.RepresentationType not in _NON_SOLID_TYPES
        for rep in shape.Representations or ()
    )


def default_workers() -> int:
    """Worker processes for tessellation: one per core (0 where fork is unavailable)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 0
    return os.cpu_count() or 1


def default_threads() -> int:
    """Iterator threads when tessellating in-process (``workers=0``): cores + 1.

    In one process the kernel leaves cores idle at one thread per core: on 2 cores
    Janesville iterates in 4.3 s with 2 threads and 3.8 s with 3; more gains nothing.
    """
    return (os.cpu_count() or 1) + 1


def iterator_settings() -> ifcopenshell.geom.settings:
    """Geometry settings shared by the pipeline and the benchmark's raw baseline."""
    settings = ifcopenshell.geom.settings()
    # Local frames let the iterator reuse one tessellation for every element sharing a
    # representation; placements are applied afterwards with numpy.
    settings.set("use-world-coords", False)
    # Surfaces and solids only: 2D annotations and axis curves are not drawn in 3D.
    settings.set("dimensionality", wrapper.SURFACES_AND_SOLIDS)
    # Every face gets a style (IFC's, or ifcopenshell's per-class default) to colour it.
    settings.set("apply-default-materials", True)
    # Normals are not stored: the viewer shades flat from screen-space derivatives, and
    # stored normals would add ~65% to the GLB (DESIGN.md).
    settings.set("no-normals", True)
    return settings


@dataclass(slots=True)
class _Outcome:
    """What one slice of elements produced (sent from a worker to the parent)."""

    shapes: dict[str, Shape] = field(default_factory=dict)
    placed: list[PlacedShape] = field(default_factory=list)
    failures: list[tuple[int, str, tuple[str, ...]]] = field(default_factory=list)  # step id, reason, kernels
    retried: int = 0


@dataclass(slots=True)
class _Job:
    """A forked worker working through ``plan``; ``claimed`` is the chunk it is on."""

    process: multiprocessing.process.BaseProcess
    connection: multiprocessing.connection.Connection
    plan: list[list[int]]
    counter: object  # multiprocessing.Value("i"): the next chunk of ``plan`` to claim
    claimed: int | None = None


class Tessellation:
    """Tessellates ``products``; ``start()`` early, ``finish()`` later, ``close()`` always.

    ``start()`` forks the workers and returns at once, so the caller can extract
    properties meanwhile; ``finish()`` collects the results. Workers spool each result to
    a file in ``work_dir`` (default: the system temp folder) so they never wait for this
    process to read. Call ``start()`` before starting any thread that must not be
    forked. ``workers=0`` tessellates in this process instead (with ``default_threads()``
    iterator threads). Use it as a context manager, or call ``close()``, so that workers
    never outlive an error.

    Example::

        with Tessellation(model, elements) as tessellation:
            tessellation.start()
            ...  # other work overlaps with tessellation
            result = tessellation.finish()
    """

    def __init__(
        self,
        model: ifcopenshell.file,
        products: Sequence[ifcopenshell.entity_instance],
        *,
        kernels: Sequence[str] = DEFAULT_KERNELS,
        workers: int | None = None,
        work_dir: str | os.PathLike | None = None,
    ) -> None:
        if not kernels:
            raise ValueError("at least one geometry kernel is needed")
        if workers is not None and workers < 0:
            raise ValueError(f"workers must be 0 or more, not {workers}")
        self._model = model
        self._expected = [p for p in products if expects_geometry(p)]
        self._kernels = tuple(kernels)
        wanted = default_workers() if workers is None else workers
        self._workers = min(wanted, len(self._expected))
        self._work_dir = work_dir
        self._spool: str | None = None
        self._jobs: list[_Job] = []
        self._started = False

    def __enter__(self) -> Tessellation:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def expected_count(self) -> int:
        """Number of elements that should yield geometry."""
        return len(self._expected)

    def start(self) -> None:
        """Fork the workers (returns immediately); a no-op in-process or when started."""
        if self._started:
            return
        self._started = True
        if self._workers == 0:
            return
        self._spool = tempfile.mkdtemp(prefix="ifc-geometry-", dir=self._work_dir)
        plan = _plan_chunks(self._expected, self._workers * _CHUNKS_PER_WORKER)
        counter = _counter()
        for _ in range(min(self._workers, len(plan))):
            self._jobs.append(self._fork(plan, counter))

    def finish(self, *, on_progress: ProgressCallback | None = None) -> TessellationResult:
        """Wait for all shapes, then return them with the failures."""
        self.start()
        total = len(self._expected)
        outcomes: list[_Outcome] = []
        crashed: list[int] = []
        try:
            if self._workers == 0:
                report = _progress_reporter(on_progress, total)
                outcomes.append(
                    _tessellate(self._model, self._expected, self._kernels, default_threads(), report)
                )
            else:
                self._drain(outcomes, crashed, on_progress, total)
        finally:
            self.close()
        result = _merge(outcomes, crashed, self._model, self._kernels)
        if on_progress:
            on_progress("geometry", total, total)
        return result

    def close(self) -> None:
        """Stop every worker still running and remove spooled results (idempotent)."""
        for job in self._jobs:
            if job.process.is_alive():
                job.process.kill()
            job.process.join()
            job.connection.close()
        self._jobs = []
        if self._spool is not None:
            shutil.rmtree(self._spool, ignore_errors=True)
            self._spool = None

    def _fork(self, plan: list[list[int]], counter) -> _Job:
        context = multiprocessing.get_context("fork")
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(
            target=_worker,
            args=(self._model, plan, counter, self._kernels, self._spool, sender),
            name="ifc-geometry",
            daemon=True,
        )
        with warnings.catch_warnings():
            # Python 3.12+ warns about fork() in a process that has threads. The child
            # only runs the geometry iterator on the inherited, read-only model and
            # touches no lock another thread could hold.
            warnings.simplefilter("ignore", DeprecationWarning)
            process.start()
        sender.close()
        job = _Job(process, receiver, plan, counter)
        self._jobs.append(job)
        return job

    def _drain(
        self,
        outcomes: list[_Outcome],
        crashed: list[int],
        on_progress: ProgressCallback | None,
        total: int,
    ) -> None:
        done = 0
        waiting: list[list[int]] = []  # halves of crashed chunks, run as workers free up
        active = {job.connection: job for job in self._jobs}
        while active or waiting:
            while waiting and len(active) < self._workers:
                job = self._fork([waiting.pop()], _counter())
                active[job.connection] = job
            for connection in multiprocessing.connection.wait(list(active)):
                job = active[connection]
                try:
                    message = connection.recv()
                except (EOFError, OSError):
                    # The worker died without saying goodbye: a kernel crash. Its chunk
                    # is halved and re-run until the element responsible stands alone;
                    # a replacement takes over the chunks of its plan nobody claimed.
                    del active[connection]
                    job.process.join()
                    connection.close()
                    if job.claimed is not None:
                        ids = job.plan[job.claimed]
                        if len(ids) == 1:
                            crashed.append(ids[0])
                        else:
                            waiting += [ids[: len(ids) // 2], ids[len(ids) // 2 :]]
                    if job.counter.value < len(job.plan):
                        replacement = self._fork(job.plan, job.counter)
                        active[replacement.connection] = replacement
                    continue
                kind = message[0]
                if kind == "error":
                    raise RuntimeError(f"geometry worker failed: {message[1]}")
                if kind == "claim":
                    job.claimed = message[1]
                elif kind == "progress":
                    done = min(total, done + message[1])
                    if on_progress:
                        on_progress("geometry", done, total)
                elif kind == "done":
                    with open(message[1], "rb") as spooled:
                        outcomes.append(pickle.load(spooled))
                    os.remove(message[1])
                    job.claimed = None
                else:  # "exit": no chunk left
                    del active[connection]
                    connection.close()
                    job.process.join()


def _counter():
    """A chunk counter in shared memory, inherited by forked workers."""
    return multiprocessing.get_context("fork").Value("i", 0)


def _reuse_key(element: ifcopenshell.entity_instance) -> tuple[str, int]:
    """What the iterator shares a tessellation by: the mapped source, else the representation."""
    for representation in element.Representation.Representations or ():
        if representation.RepresentationIdentifier in _NON_BODY_IDENTIFIERS:
            continue
        items = representation.Items or ()
        sources = {item.MappingSource.id() for item in items if item.is_a("IfcMappedItem")}
        if len(sources) == 1 and len(items) == 1:
            return ("map", sources.pop())
        return ("representation", representation.id())
    return ("element", element.id())


def _plan_chunks(products: list, count: int) -> list[list[int]]:
    """Cut ``products`` into at most ``count`` chunks of step ids of similar cost, biggest
    first, never splitting elements that share a representation."""
    groups: dict[tuple[str, int], list[int]] = {}
    cost: dict[tuple[str, int], float] = {}
    for product in products:
        key = _reuse_key(product)
        members = groups.setdefault(key, [])
        if getattr(product, "HasOpenings", None):
            cost[key] = cost.get(key, 0.0) + _OPENING_COST
        else:
            cost[key] = cost.get(key, 0.0) + (_SHARED_COST if members else 1.0)
        members.append(product.id())
    bins = [(0.0, i, []) for i in range(max(1, min(count, len(groups))))]
    heapq.heapify(bins)
    for key in sorted(groups, key=lambda k: (-cost[k], k)):  # longest processing time first
        load, index, members = heapq.heappop(bins)
        members.extend(groups[key])
        heapq.heappush(bins, (load + cost[key], index, members))
    return [sorted(members) for _, _, members in sorted(bins, key=lambda b: (-b[0], b[1])) if members]


def _worker(
    model: ifcopenshell.file, plan: list[list[int]], counter, kernels: tuple[str, ...], spool: str, sender
) -> None:
    """Body of a forked worker: claim chunks of ``plan`` until none is left.

    Each result is pickled to a file in ``spool`` and only its path goes through the
    pipe: a result is far larger than a pipe's buffer, and the parent, busy extracting
    properties, does not read until it has finished.
    """
    # Ctrl-C reaches the whole process group; the parent decides and kills us if needed.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        while True:
            with counter.get_lock():
                index = counter.value
                counter.value += 1
            if index >= len(plan):
                break
            sender.send(("claim", index))
            products = [model.by_id(step_id) for step_id in plan[index]]
            outcome = _tessellate(model, products, kernels, 1, lambda n: sender.send(("progress", n)))
            path = os.path.join(spool, f"{os.getpid()}-{index}.pickle")
            with open(path, "wb") as out:
                pickle.dump(outcome, out, protocol=pickle.HIGHEST_PROTOCOL)
            sender.send(("done", path))
        sender.send(("exit",))
    except Exception as exc:  # a bug, not a kernel crash: the parent re-raises it
        sender.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        sender.close()


def _progress_reporter(on_progress: ProgressCallback | None, total: int) -> Callable[[int], None]:
    done = 0

    def report(count: int) -> None:
        nonlocal done
        done = min(total, done + count)
        if on_progress:
            on_progress("geometry", done, total)

    return report


def _tessellate(
    model: ifcopenshell.file,
    products: Sequence[ifcopenshell.entity_instance],
    kernels: tuple[str, ...],
    threads: int,
    report: Callable[[int], None],
) -> _Outcome:
    """Run the kernels over ``products`` in this process, retrying the missing ones."""
    outcome = _Outcome()
    expected = {p.id() for p in products}
    produced: set[int] = set()
    reasons: dict[int, str] = {}
    pending = list(products)
    tried: list[str] = []
    for attempt, kernel in enumerate(kernels):
        if not pending:
            break
        if attempt:
            outcome.retried += len(pending)
        wrapper.get_log()  # start the log clean so reasons belong to this run
        iterator = ifcopenshell.geom.iterator(
            iterator_settings(), model, threads, geometry_library=kernel, include=pending
        )
        unreported = 0
        has_shapes = bool(iterator.initialize())
        while has_shapes:
            element = iterator.get()
            # An included aggregate also yields its parts; keep only what was asked.
            if element.id in expected and element.id not in produced:
                geometry = element.geometry
                # A representation's id is the same for every kernel, but each kernel
                # makes its own triangles (none, when it failed): keep them apart.
                key = geometry.id if attempt == 0 else f"{kernel}:{geometry.id}"
                if key not in outcome.shapes:
                    outcome.shapes[key] = _shape(geometry)
                if len(outcome.shapes[key].triangles):
                    matrix = (
                        np.frombuffer(element.transformation_buffer, "d").reshape((4, 4), order="F").copy()
                    )
                    outcome.placed.append(PlacedShape(element.id, key, matrix))
                    produced.add(element.id)
                    unreported += 1
                    if unreported == _PROGRESS_EVERY:
                        report(unreported)
                        unreported = 0
            has_shapes = bool(iterator.next())
        if unreported:
            report(unreported)
        for step_id, reason in _reasons_from_log().items():
            reasons.setdefault(step_id, reason)
        tried.append(kernel)
        pending = [p for p in pending if p.id() not in produced]
    for step_id in _fully_voided(model, pending, kernels[0], threads):
        reasons.setdefault(step_id, _VOIDED_REASON)
    outcome.failures = [
        (p.id(), reasons.get(p.id(), "the kernel produced no triangles and logged no reason"), tuple(tried))
        for p in pending
    ]
    # Shapes no placement uses (a kernel's empty attempt) need not travel.
    used = {p.shape_key for p in outcome.placed}
    outcome.shapes = {key: shape for key, shape in outcome.shapes.items() if key in used}
    return outcome


def _fully_voided(
    model: ifcopenshell.file, products: Sequence[ifcopenshell.entity_instance], kernel: str, threads: int
) -> set[int]:
    """Step ids of elements that have triangles only while their openings are not cut.

    Exporters sometimes void a whole element (Revit: a wall segment entirely taken by a
    storefront opening). The kernels then rightly return nothing and log no reason; this
    check lets the failure log say why.
    """
    holed = [p for p in products if getattr(p, "HasOpenings", None)]
    if not holed:
        return set()
    settings = iterator_settings()
    settings.set("disable-opening-subtractions", True)
    iterator = ifcopenshell.geom.iterator(settings, model, threads, geometry_library=kernel, include=holed)
    found = set()
    has_shapes = bool(iterator.initialize())
    while has_shapes:
        element = iterator.get()
        if len(element.geometry.faces_buffer):
            found.add(element.id)
        has_shapes = bool(iterator.next())
    return found & {p.id() for p in holed}


def _merge(
    outcomes: list[_Outcome], crashed: list[int], model: ifcopenshell.file, kernels: tuple[str, ...]
) -> TessellationResult:
    result = TessellationResult()
    placed: dict[int, PlacedShape] = {}
    failures: dict[int, tuple[str, tuple[str, ...]]] = {}
    for outcome in outcomes:
        for key, shape in outcome.shapes.items():
            result.shapes.setdefault(key, shape)  # same key, same kernel: same triangles
        for p in outcome.placed:
            placed.setdefault(p.step_id, p)
        for step_id, reason, tried in outcome.failures:
            failures[step_id] = (reason, tried)
        result.retried += outcome.retried
    for step_id in crashed:
        failures[step_id] = (_CRASH_REASON, kernels)
    result.placed = [placed[step_id] for step_id in sorted(placed)]
    result.failures = [
        GeometryFailure(
            global_id=model.by_id(step_id).GlobalId,
            step_id=step_id,
            ifc_class=model.by_id(step_id).is_a(),
            reason=reason,
            kernels_tried=tried,
        )
        for step_id, (reason, tried) in sorted(failures.items())
        if step_id not in placed
    ]
    return result


def _shape(geometry: wrapper.Triangulation) -> Shape:
    positions = np.frombuffer(geometry.verts_buffer, "d").reshape(-1, 3)
    triangles = np.frombuffer(geometry.faces_buffer, "i").reshape(-1, 3).astype(np.uint32)
    if not len(triangles):  # a failed or fully voided element: nothing to colour
        return Shape(positions.copy(), triangles, np.zeros((len(positions), 4), dtype=np.uint8))
    material_ids = np.frombuffer(geometry.material_ids_buffer, "i")
    colours = np.frombuffer(geometry.colors_buffer, "d").reshape(-1, 4)
    palette = np.vstack([colours, _NO_STYLE]) if len(colours) else _NO_STYLE
    face_colour = np.where(material_ids < 0, len(palette) - 1, material_ids)

    if len(palette) <= 2 or np.all(face_colour == face_colour[0]):
        # One style for the whole shape (the common case): no vertex needs splitting.
        rgba = np.repeat(
            _to_rgba8(palette[face_colour[0] if len(face_colour) else -1])[None, :], len(positions), 0
        )
        return Shape(positions.copy(), triangles, rgba)

    # A vertex shared by faces of different styles is duplicated, one copy per style.
    corner_style = np.repeat(face_colour, 3)
    keys = triangles.ravel().astype(np.int64) * len(palette) + corner_style
    unique_keys, inverse = np.unique(keys, return_inverse=True)
    new_positions = positions[unique_keys // len(palette)]
    rgba = _to_rgba8(palette[unique_keys % len(palette)])
    return Shape(new_positions, inverse.reshape(-1, 3).astype(np.uint32), rgba)


_NO_STYLE = np.array([[0.8, 0.8, 0.8, 1.0]])  # light grey, sRGB, for faces with no style


def _to_rgba8(srgb_alpha: np.ndarray) -> np.ndarray:
    """sRGB colour + alpha (0..1) to linear-light RGBA bytes, as glTF's COLOR_0 expects."""
    srgb = np.clip(np.asarray(srgb_alpha, dtype=np.float64), 0.0, 1.0)
    rgb = srgb[..., :3]
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    out = np.concatenate([linear, srgb[..., 3:4]], axis=-1)
    return np.round(out * 255.0).astype(np.uint8)


def _reasons_from_log() -> dict[int, str]:
    """First error message logged per product since the last drain, keyed by step id."""
    reasons: dict[int, str] = {}
    for line in wrapper.get_log().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("level") != "error" or "product" not in entry:
            continue
        match = _PRODUCT_REF.match(entry["product"])
        if match:
            message = entry.get("message", "").strip().rstrip(":")
            instance = entry.get("instance", "")
            detail = f"{message} ({instance.split('(')[0]})" if instance else message
            reasons.setdefault(int(match.group(1)), detail)
    return reasons

"""The one data flow: audio (+ emotion controls) -> stages -> AnimationTrack.

One stage graph (:data:`STAGE_GRAPH`: lip-sync slot -> emotion -> upper face -> eyes + head ->
body), fed two ways: LIVE feeds :class:`LiveGraph` audio pieces and ships the frames that became
final (incremental processors, bounded lookahead); :func:`bake` is the same graph with the widest
lookahead (:meth:`LiveGraph.for_bake`) fed the whole input. Stages never read files or sockets:
this module only passes arrays along.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from . import __version__
from .audio import Audio, frame_db
from .errors import InputError
from .face.lipsync import animate_mouth, get_recognizer
from .face.drivers import TICK_S
from .face.lipsync.phones import Phone
from .options import StageOptions
from .track import AnimationTrack


#: the one typed options object (emoanim_server/options.py); the bake's historical name
BakeOptions = StageOptions


Progress = Callable[[float], None]


def recognise(audio: Audio, options: BakeOptions, progress: Progress | None = None,
              report: dict | None = None) -> list[Phone]:
    return get_recognizer(options.fast).phones(audio.samples, options.transcript, progress,
                                               options.language, report)


def lipsync_engine(options: BakeOptions) -> str:
    """The engine for this line. ``auto``: with a transcript, its alignment (any language; outside
    English plus the learned contacts, ``fused``); without one, for English or no hint the phonetic path
    (PocketSphinx, English words) -- without a transcript ``fused`` with the learned model's
    contacts, which adds the closures the recogniser misses (LJ closure 0.906 -> 0.94,
    docs/lipsync.md) -- and the learned, language-independent model for any other hint."""
    from .face.lipsync.neural import neural_available

    if options.lipsync == "neural" and not neural_available():
        raise InputError("--lipsync neural: the articulation model (models/articulation.onnx) is missing")
    if options.lipsync != "auto":
        return options.lipsync
    from .face.lipsync.language import normalise_language

    # a bad tag is an input error whichever engine runs (the phonetic path checks it too)
    lang = normalise_language(options.language or options.extra.get("language")).lower()
    if not neural_available():
        return "phonetic"
    english = lang.split("-")[0].split("_")[0] in ("en", "eng", "english", "auto")
    if options.transcript is not None:
        # transcript alignment works in every supported language and measures best there
        # (benchmarks/results/lipsync_languages.md). Outside English the en-US acoustic model
        # aligns foreign phones less surely, so the learned contacts go on top (they only ever
        # add a closure or tuck): the line is never less closed than without its transcript. In
        # English alone the alignment measures best (LJ with transcript: open 1.00 vs 0.989 fused).
        # A transcript that does not match the audio falls back to what the same line without it
        # gets (bake below)
        return "phonetic" if english else "fused"
    if english:
        return "fused"
    return "neural"


def lipsync_curves(audio: Audio, phones: list[Phone], times: np.ndarray, fps: int,
                   fused: bool = False) -> np.ndarray:
    hop = 0.01
    db = frame_db(audio.samples, hop)
    if fused:
        from .face.lipsync.animate import articulate
        from .face.lipsync.neural import fused_curves

        return fused_curves(articulate(phones, times, fps, db, np.arange(len(db)) * hop), audio.samples, fps)
    return animate_mouth(phones, times, fps, db, np.arange(len(db)) * hop)


def bake(audio: Audio, options: BakeOptions | None = None,
         progress: Progress | None = None) -> AnimationTrack:
    """Audio -> AnimationTrack with every enabled stage applied, deterministic per seed.

    The stage graph fed the whole input: :meth:`LiveGraph.for_bake` is the LIVE graph with the
    widest lookahead (every stage sees the whole line), fed all the audio in one piece."""
    graph = LiveGraph.for_bake(options or BakeOptions(), progress, audio)
    graph.feed(audio.samples)
    graph.finish()
    return graph.track


@dataclass
class _Line:
    """What the stages pass along when they see the whole line (bake)."""

    audio: Audio
    options: BakeOptions
    progress: Progress | None
    track: AnimationTrack
    lip_report: dict
    phones: list[Phone]


def _lipsync_whole(c: _Line) -> None:
    """Lip-sync slot, whole line: word recognition / transcript alignment (phonetic), the
    learned model over the whole input (neural), or both (fused); docs/lipsync.md."""
    options, audio, track = c.options, c.audio, c.track
    engine = lipsync_engine(options)
    lip_report: dict = {}
    phones: list[Phone] = []
    if engine in ("phonetic", "fused"):
        phones = recognise(audio, options, c.progress, lip_report)
        if lip_report.get("transcript_used") is False and options.lipsync == "auto":
            # the transcript did not match (recognise fell back to audio-only phones): the line
            # is animated as the same line without it
            engine = lipsync_engine(replace(options, transcript=None))
            if engine == "neural":
                phones = []
    if engine == "neural":
        from .face.lipsync.neural import model_info, neural_curves

        track.curves[:] = neural_curves(audio.samples, options.fps)
        lip_report = {"method": "neural", **model_info(), **lip_report}
    else:
        track.curves[:] = lipsync_curves(audio, phones, track.times, options.fps, fused=engine == "fused")
        lip_report = {"method": engine, "recognizer": get_recognizer(options.fast).version,
                      "transcript": options.transcript is not None, **lip_report}
        if engine == "fused":
            from .face.lipsync.neural import model_info

            lip_report["contacts"] = model_info()
    lip_report["requested"] = options.lipsync
    track.events["phones"] = [(p.start, p.end, p.phone) for p in phones]
    track.events["words"] = _words(phones)
    lip_report["word_timings"] = _word_timings(lip_report, track.events["words"])
    c.lip_report, c.phones = lip_report, phones


def _emotion_whole(c: _Line) -> None:
    """Emotion -> expression, mixed with lip-sync (emotion/, face/expression, face/mixer); also
    sets events["emphasis"] and events["emotion"]."""
    from .emotion import apply_emotion

    apply_emotion(c.track, c.audio, c.options)


def _upper_whole(c: _Line) -> None:
    """Speech-driven upper face (face/upper.py; the same streaming model LIVE runs)."""
    from .face.eyes import line_seed
    from .face.upper import apply_upper

    apply_upper(c.track, c.audio.samples, c.options.extra, line_seed(c.options.seed, c.audio.samples))


def _eyes_head_whole(c: _Line) -> None:
    """Eyes (blink, gaze, saccades) planned, head motion, eyes rendered against the head
    (face/eyes_head.py; docs/eyes_head.md): whole line, 0.4 s pause look-ahead, emphasis nods."""
    from .face.eyes_head import eyes_and_head

    eyes_and_head(c.track, c.audio.samples, c.options, c.options.seed)


def _body_whole(c: _Line) -> None:
    """Body gestures (gesture/), when asked for."""
    if c.options.body:
        from .gesture.stage import apply_body

        apply_body(c.track, c.audio, c.options, c.progress)


#: The stage graph, in order. The bake runs each stage's whole-input processor (this table); LIVE
#: runs the incremental processors of the same stages (LiveGraph: lip-sync slot -> emotion mixer
#: -> upper face -> eyes + head -> body). They differ only where a stage looks further ahead with
#: the whole line (recognition, the eyes' pause look-ahead, emphasis nods, auto emotion).
STAGE_GRAPH: tuple[tuple[str, Callable[[_Line], None]], ...] = (
    ("lipsync", _lipsync_whole), ("emotion", _emotion_whole), ("upper", _upper_whole),
    ("eyes_head", _eyes_head_whole), ("body", _body_whole))


def _bake_line(audio: Audio, options: BakeOptions, progress: Progress | None) -> AnimationTrack:
    c = _Line(audio, options, progress, AnimationTrack.empty(audio.duration, options.fps), {}, [])
    for _, stage in STAGE_GRAPH:
        stage(c)
    track = c.track
    track.metadata.update({
        "emoanim_version": __version__,
        "source_audio": audio.source,
        "source_sample_rate": audio.source_rate,
        "source_channels": audio.source_channels,
        "duration_s": round(audio.duration, 6),
        "seed": options.seed,
        "lipsync": c.lip_report,
    })
    if options.extra.get("character"):  # the user's character file: the FBX/GLB/USD writers read it
        track.metadata["character"] = options.extra["character"]  # (every edge: bake, batch, server)
    if options.extra.get("overrides"):  # an animator's hand edits, re-applied on every re-bake (overrides.py)
        track = options.extra["overrides"].apply(track)
    track.validate()
    return track


def _words(phones: list[Phone]) -> list[tuple[float, float, str]]:
    """Word timings (start s, end s, word as written) from the aligned phones, to 0.1 ms."""
    out: list[tuple[float, float, str]] = []
    for p in phones:
        if not p.word:
            continue
        if out and out[-1][2] == p.word and abs(out[-1][1] - p.start) < 1e-6:
            out[-1] = (out[-1][0], p.end, p.word)
        else:
            out.append((p.start, p.end, p.word))
    return [(round(a, 4), round(b, 4), w) for a, b, w in out]


def _word_timings(lip_report: dict, words: list) -> str:
    """Where ``events['words']`` came from, for the metadata: a user who finds no words there
    learns why (docs/languages.md)."""
    if lip_report.get("transcript_used"):
        return "transcript"
    if words:
        return "recognised (en-US words)"
    return ("none: without a usable transcript only English words are recognised; "
            "give the line's transcript for word and phone timings")


# ---------------------------------------------------------------------------------- LIVE graph
class PhoneticStream:
    """The phone-loop lip-sync (face/lipsync/streaming.py) behind the learned model's interface
    (``NeuralLipsync``: samples in, the frames that became final out), so the LIVE graph has one
    lip-sync slot whichever engine fills it. ``emit_interval_s`` batches its work: the phone
    loop's per-call cost (decoder hypothesis + coarticulation over a context window) is what
    limits it, so it returns frames only once that much animation is final (the first at once)."""

    def __init__(self, fps: int, lookahead_s: float = 0.2, emit_interval_s: float = 0.2) -> None:
        from .face.lipsync.streaming import StreamingLipsync

        self.fps = fps
        self.lookahead_s = lookahead_s
        self._s = StreamingLipsync(fps, lookahead_s)
        self._every = max(1, int(round(emit_interval_s * fps)))
        self._done = 0
        #: the phones around the frames last returned (contact zones for the emotion mixer)
        self.phones: list[tuple[float, float, str]] = []

    def _take(self, n: int, n_total: int | None) -> np.ndarray:
        if n <= self._done:
            return np.zeros((0, 52), np.float32)
        out = self._s.curves(self._done, n, n_total)
        self.phones = [(p.start, p.end, p.phone) for p in self._s.window_phones]
        self._done = n
        return out

    def feed(self, samples: np.ndarray) -> np.ndarray:
        self._s.feed(samples)
        n = self._s.final_frame_count()
        if self._done > 0 and n - self._done < self._every:
            return np.zeros((0, 52), np.float32)
        return self._take(n, None)

    def flush(self) -> np.ndarray:
        from .track import n_frames_for

        self._s.finish()
        n = n_frames_for(self._s.received_s, self.fps) if self._s.received_s > 0 else 0
        return self._take(n, n)

    def close(self) -> None:
        self._s.close()


def live_lipsync(engine: str, fps: int, phonetic_lookahead_s: float = 0.2, emit_interval_s: float = 0.2):
    """The incremental lip-sync engine for LIVE: ``"neural"`` (the learned model's runner) or
    ``"phonetic"`` (the phone loop, when the model is not installed)."""
    if engine == "neural":
        from .face.lipsync.neural import NeuralLipsync

        return NeuralLipsync(fps)
    return PhoneticStream(fps, phonetic_lookahead_s, emit_interval_s)


#: samples of a LIVE session's first audio that key its blinks, gaze, head and upper face
LIVE_KEY_SAMPLES = 320


@dataclass
class LiveFrames:
    """Frames [first, first + n) as the LIVE graph emits them (ARKit curves, radians)."""

    first: int
    curves: np.ndarray
    head: np.ndarray | None = None
    eyes: np.ndarray | None = None
    joints: np.ndarray | None = None
    root: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.curves)


def _concat_frames(a: LiveFrames, b: LiveFrames) -> LiveFrames:
    def cat(x, y):
        return None if x is None else np.concatenate([x, y])

    return LiveFrames(a.first, np.concatenate([a.curves, b.curves]), cat(a.head, b.head), cat(a.eyes, b.eyes),
                      cat(a.joints, b.joints), cat(a.root, b.root))


class LiveGraph:
    """The stage graph fed incrementally: audio pieces (and emotion keys) in, final frames out.

    Stages, in order, each an incremental processor: lip-sync (learned model or phone loop) ->
    emotion (expression + articulation-first mixer, per frame window) -> eyes + head (causal
    streaming models on the 10 ms tick grid, driven by causal speech activity) -> body (the
    gesture stage's streaming sampler). A frame leaves once every enabled stage has it final, so
    the latency is the lip-sync engine's lookahead plus one tick (eyes/head), or the body's
    when body is on. The server only feeds audio and ships what :meth:`feed` returns.
    """

    #: whole-input mode (:meth:`for_bake`): the audio pieces so far, the options, the result
    _whole: list | None = None
    track: AnimationTrack | None = None

    @classmethod
    def for_bake(cls, options: BakeOptions, progress: Progress | None = None,
                 source: Audio | None = None) -> "LiveGraph":
        """The graph with the widest lookahead: :meth:`feed` takes the pieces in, :meth:`finish`
        runs every stage's whole-input processor (:data:`STAGE_GRAPH`) over the whole line and
        returns all frames; the result is also :attr:`track` (what :func:`bake` returns).
        ``source``: the Audio the samples come from (file name, rate, channels for the metadata)."""
        g = cls.__new__(cls)
        g._whole, g._options, g._progress, g._source = [], options, progress, source
        g.fps, g.seed, g.parts = options.fps, int(options.seed) & 0x7FFFFFFF, {}
        g.received, g.next_index, g.finished, g.track = 0, 0, False, None
        return g

    def _finish_whole(self) -> LiveFrames | None:
        src = self._source
        pieces, self._whole = self._whole, []
        if src is not None and len(pieces) == 1 and pieces[0] is src.samples:
            audio = src
        else:
            x = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
            audio = Audio(x, src.source, src.source_rate, src.source_channels) if src is not None else Audio(x)
        self.track = t = _bake_line(audio, self._options, self._progress)
        self.finished = True
        self.next_index = t.n_frames
        return LiveFrames(0, t.curves, t.head, t.eyes, t.joint_rotations, t.root_positions) if t.n_frames else None

    def __init__(self, fps: int, seed: int, parts: dict, engine: str = "phonetic", emotion=None,
                 eyes=None, head=None, phonetic_lookahead_s: float = 0.2, emit_interval_s: float = 0.2,
                 process_interval_s: float = 0.0) -> None:
        from .face.drivers import StreamingSpeech
        from .face.eyes import EyesConfig
        from .face.head import HeadConfig

        self.fps, self.seed, self.parts = fps, int(seed) & 0x7FFFFFFF, dict(parts)
        self.engine = engine
        self.lip = live_lipsync(engine, fps, phonetic_lookahead_s, emit_interval_s)
        #: emotion.stage.LiveTimeline (or None: neutral); the server adds keys as they come
        self.emotion = emotion
        self._controls = None
        self._fixed = None
        self._fixed_rows: dict = {}
        #: (weights, vad, _neutral_calm of them) of the mixer's last window (see _mix_inputs)
        self._calm: tuple | None = None
        self._at_rest: bool | None = None  # the mixer's result is the lips at every frame (once known)
        self.speech = StreamingSpeech()
        # recent tick activity (the mixer's speaking zones, :meth:`_speaking_phones`): the runs of
        # active ticks [start, end) (absolute tick indices, the last one open while it lasts) in
        # the history window [_hist_k0, _hist_k0 + _hist_n), kept as each tick arrives
        self._speech_runs: list[list[int]] = []
        self._hist_n = 0
        self._ticks: list[np.ndarray] = []  # speech ticks not yet given to eyes/head
        self._new_lips = 0  # lip-sync frames the last chunk made (end_lips -> end_speech)
        self._driven = 0  # ticks given to eyes/head
        self._eh_pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # ticks eyes/head wait for
        self._x: np.ndarray | None = None  # audio between begin() and end()
        self._hist_k0 = 0
        self._keyed = False  # eyes/head/upper face keyed by the first audio (_key_stages)
        self._ever_timed = False  # an emotion timeline was ever set (set_emotion)
        self._key_buf = np.zeros(0, np.float32)
        self.eyes_head = None
        if parts.get("eyes") or parts.get("head"):
            from .face.eyes_head import EyesHeadStream

            ecfg = eyes or EyesConfig()
            if not parts.get("eyes"):
                ecfg = EyesConfig(blink=False, gaze=False)
            hcfg = head or HeadConfig()
            if not parts.get("head"):
                hcfg = HeadConfig(enabled=False)
            self.eyes_head = EyesHeadStream(fps, self.seed, ecfg, hcfg)
        self.upper = None
        if parts.get("face", True):
            from .face.upper import UpperConfig, UpperFaceModel

            # the speech-driven upper face (face/upper.py), modulated by the session's emotion
            self.upper = UpperFaceModel(UpperConfig(follow_emotion=True), self.seed)
            self.upper.keep_history = False  # the graph takes each step's ticks (bounded memory)
            self._upper = np.zeros((0, 0))  # ticks computed, not yet behind every frame sent
            self._upper_k0 = 0
            self._up_frames_key, self._up_frames = (0, 0), 0  # _upper_frames for (k0, ticks)
            # audio and emotion ticks the upper face has not been given yet (it runs lazily)
            self._up_audio: list[np.ndarray] = []
            self._up_emo: list[tuple] = []  # (weights, arousal) or (None, fixed rows, ticks)
            self._up_fed = False  # audio given by upper_pitch_request, its step still to come
            self._up_given = False  # audio given by upper_audio_in, its pitch frames not yet asked
        self.body = None
        if parts.get("body"):
            self.body = BodyStream(fps, self.seed, self.emotion_at)
        self._curves = np.zeros((0, 52), np.float32)  # lip-sync frames not yet emitted
        self._lip_done = 0
        self.next_index = 0
        self.received = 0  # samples
        self.finished = False
        self.emit_frames = max(1, int(round(emit_interval_s * fps))) if engine != "neural" else 1
        #: audio is run through the stages once this much has arrived (0 = every chunk): every
        #: stage call has a fixed cost, so a longer interval buys sessions per core with latency
        self.process_samples = int(round(process_interval_s * 16000))
        self._inbox: list[np.ndarray] = []
        self._inbox_n = 0
        self._pre_final: tuple | None = None  # (_final_key, n_final) of eyes_head_request

    # ------------------------------------------------------------------------------ properties
    @property
    def lookahead_s(self) -> float:
        """Audio needed past a frame's time before the frame is final (reported to clients)."""
        from .face.drivers import TICK_S

        if self._whole is not None:
            return float("inf")  # the whole line
        la = float(self.lip.lookahead_s)
        if self.eyes_head is not None:
            la = max(la, 2 * TICK_S)
        if self.upper is not None:
            from .face.upper import LOOKAHEAD_S as UPPER_LOOKAHEAD_S

            la = max(la, UPPER_LOOKAHEAD_S + 2 * TICK_S)
        if self.body is not None:
            la = max(la, body_lookahead_s())
        return la

    @property
    def batch_s(self) -> float:
        """Extra delay of batched work: frames leave at most this long after becoming final."""
        return max(0.0 if self.emit_frames <= 1 else self.emit_frames / self.fps, self.process_samples / 16000)

    def set_emotion(self, timeline) -> None:
        self.emotion = timeline
        if timeline is not None:
            self._ever_timed = True  # (no early eyes + head feeds from now on: eyes_head_can_early)
        self._calm = None
        self._controls = None
        self._at_rest = None

    def emotion_at(self, times: np.ndarray):
        if self._controls is None:
            from .emotion.stage import EmotionControls, controls_from, controls_state

            timed = self.emotion is not None and self.parts.get("emotion")
            self._controls = EmotionControls(self.emotion, source="timeline") if timed else controls_from(None)
            # no timeline: neutral at every time, one row repeated (two calls per chunk otherwise)
            self._fixed = None if timed else controls_state(self._controls, np.zeros(1))
            self._fixed_rows = {}
        if self._fixed is not None:
            # the same rows for every window of a length (LIVE asks for 1-2 frames and 2 ticks
            # per chunk): built once, read-only (every reader copies or only reads them)
            n = len(times)
            rows = self._fixed_rows.get(n)
            if rows is None:
                vad, w = self._fixed
                rows = np.repeat(vad, n, axis=0), np.repeat(w, n, axis=0)
                for a in rows:
                    a.flags.writeable = False
                if len(self._fixed_rows) < 16:
                    self._fixed_rows[n] = rows
            return rows
        # (a timeline's controls have no auto part: controls_state is the timeline's sample)
        return self._controls.timeline.sample(times)

    def _emotion_at_rest(self) -> bool:
        """No timeline and the fixed emotion is neutral and calm: the mixer would return the lips
        unchanged (see :meth:`_mix_emotion`), at every frame."""
        if self._controls is None:
            self.emotion_at(np.zeros(1))
        if self._fixed is None:
            return False
        return _neutral_calm(*self._fixed)

    # ------------------------------------------------------------------------------ input
    def feed(self, samples: np.ndarray) -> LiveFrames | None:
        """16 kHz mono float32 samples -> the frames that became final (or None)."""
        return self.end() if self.begin(samples) else None

    def begin(self, samples: np.ndarray) -> bool:
        """First half of :meth:`feed`: take the audio in and run the lip-sync front end; the
        learned model's call is left pending so that many sessions can share one
        (:func:`emoanim_server.live_batch.tick`). False: nothing to do yet (audio buffered)."""
        if self.finished:
            return False
        self._pre_final = None
        x = np.asarray(samples, np.float32).reshape(-1)
        self.received += len(x)
        if self._whole is not None:  # widest lookahead: every stage waits for the whole line
            self._whole.append(x)
            return False
        if self.process_samples:
            self._inbox.append(x)
            self._inbox_n += len(x)
            if self._inbox_n < self.process_samples:
                return False
            x = np.concatenate(self._inbox)
            self._inbox, self._inbox_n = [], 0
        self._x = x
        if hasattr(self.lip, "begin"):
            self.lip.begin(x)
        return True

    def end(self, lip_curves: np.ndarray | None = None) -> LiveFrames | None:
        """Second half of :meth:`feed`: ``lip_curves`` are the lip-sync frames the batched model
        call produced for this graph (None: run its model call here). It is :meth:`end_front`,
        then (optionally, for many graphs at once) :meth:`upper_pitch_request` /
        ``upper.take_pitch``, then :meth:`end_emit`."""
        self.end_front(lip_curves)
        return self.end_emit()

    def end_emit(self) -> LiveFrames | None:
        """The frames that became final (the last step of :meth:`end`)."""
        return self._emit(final=False)

    def upper_pitch_request(self) -> np.ndarray | None:
        """Between :meth:`end_front` and :meth:`end_emit`: when this chunk's frames will drive the
        upper face, give it its waiting audio now and return the YIN frames its new ticks need
        (the caller runs ``audio.prosody.yin_frames`` on many graphs' frames at once and hands
        each its rows with ``self.upper.take_pitch``); None: nothing to analyse. The same
        numbers as the upper face's own feed_audio (live_batch.tick). The audio may have been
        given already by :meth:`upper_audio_in` (its band-pass run for many graphs at once)."""
        if not self._up_given:
            x = self.upper_audio_request()
            if x is None:
                return None
            self.upper_audio_in(x)
        self._up_given = False
        return self.upper.pitch_frames()

    def upper_due(self) -> bool | None:
        """Whether this chunk's frames drive the upper face (True: :meth:`upper_audio_request`
        and :meth:`upper_step_request` give it its waiting audio and a step), or, when they do
        not, whether it could step early: False when it has audio waiting and is keyed already
        (so an early step keys nothing: the keying reads the first audio, see
        :meth:`_key_stages`); None otherwise. live_batch.tick steps the upper faces of sessions
        at other chunk phases early, so that they fall due on the same ticks as the rest (the
        stage is schedule-independent: any steps give the same ticks, tests/test_live_batch.py)."""
        if self.upper is None or not self._up_audio:
            return None
        if self._lip_done > self.next_index and self._upper_frames() < self._lip_done:
            return True
        return False if self._keyed else None

    def upper_audio_request(self, early: bool = False) -> np.ndarray | None:
        """The waiting audio :meth:`upper_pitch_request` would give the upper face now (taken
        from the queue: the caller hands it back with :meth:`upper_audio_in`), or None.
        ``early``: also when no frame needs it yet (see :meth:`upper_due`)."""
        if self.upper is None or not self._up_audio:
            return None
        if not early and (self._lip_done <= self.next_index or self._upper_frames() >= self._lip_done):
            return None
        if not self._keyed:
            self._key_stages()
        x = self._up_audio[0] if len(self._up_audio) == 1 else np.concatenate(self._up_audio)
        self._up_audio = []
        return x

    def upper_audio_in(self, x: np.ndarray, band: np.ndarray | None = None) -> None:
        """``x`` (from :meth:`upper_audio_request`) given to the upper face; ``band``: its
        band-pass output when the caller filtered many graphs' audio at once."""
        self.upper.append_audio(x, band=band)
        self._up_fed = True
        self._up_given = True

    def end_front(self, lip_curves: np.ndarray | None = None) -> None:
        """:meth:`end` up to the frames: the lip-sync frames taken in, the audio handed on
        (:meth:`end_lips`, the speech activity of its ticks, :meth:`end_speech`)."""
        x = self.end_lips(lip_curves)
        self.end_speech(self.speech.feed(x))

    def end_lips(self, lip_curves: np.ndarray | None = None) -> np.ndarray:
        """First part of :meth:`end_front`: the lip-sync frames taken in; returns the audio whose
        speech activity (``self.speech``) :meth:`end_speech` takes next (live_batch.tick runs
        every graph's in one call: ``face.drivers.speech_feed_many``)."""
        x, self._x = self._x, None
        if lip_curves is not None:
            new = lip_curves
        elif hasattr(self.lip, "begin"):
            self.lip.run_model()
            new = self.lip.end()
        else:
            new = self.lip.feed(x)
        self._add_lips(new)
        self._new_lips = len(new)
        if len(self._key_buf) < LIVE_KEY_SAMPLES:
            self._key_buf = np.concatenate([self._key_buf, x[:LIVE_KEY_SAMPLES - len(self._key_buf)]])
        if self.upper is not None and len(x):
            self._up_audio.append(x)
        if self.body is not None:
            self.body.feed(x)
        return x

    def end_speech(self, ticks: np.ndarray) -> None:
        """Last part of :meth:`end_front`: the speech activity of the chunk's ticks in, the
        stages driven."""
        self._ticks.append(ticks)
        # the stages advance when frames can leave: every chunk with an engine that emits per
        # chunk, with each batch for the phone loop (its per-call overhead, not the ticks, costs)
        if self.emit_frames <= 1 or self._new_lips:
            self._drive(self._ticks[0] if len(self._ticks) == 1 else np.concatenate(self._ticks))
            self._ticks = []
        if self.body is not None:
            self.body.advance(False)

    def _key_stages(self) -> None:
        """Key the random streams of eyes, head and upper face by the session's seed AND its first
        LIVE_KEY_SAMPLES samples (``face.eyes.line_seed``, as the bake keys a line by its
        samples). With one seed -- the protocol's default is 0 -- every LIVE session otherwise
        blinked at the same instants (issue 12). Called before these stages are first given
        anything (they run lazily, when a frame needs them, by which time the lip-sync's
        lookahead has brought more audio than the key needs), so they are simply rebuilt with
        the keyed seed: same audio + seed = same session, in any chunking."""
        from .face.eyes import line_seed

        self._keyed = True
        key = line_seed(self.seed, self._key_buf.astype(np.float64))
        if self.eyes_head is not None:
            self.eyes_head = self.eyes_head.rekeyed(key)
        if self.upper is not None:
            from .face.upper import UpperFaceModel

            self.upper = UpperFaceModel(self.upper.cfg, key)
            self.upper.keep_history = False

    def finish(self) -> LiveFrames | None:
        """No more audio: every remaining frame."""
        if self.finished:
            return None
        if self._whole is not None:
            return self._finish_whole()
        if self._inbox:
            x = np.concatenate(self._inbox)
            self._inbox, self._inbox_n = [], 0
            self.received -= len(x)
            first = self.feed(x)
        else:
            first = None
        self._add_lips(self.lip.flush())
        self._ticks.append(self.speech.feed(np.zeros(0, np.float32), final=True))
        self._drive(np.concatenate(self._ticks), closed=True)
        self._ticks = []
        if self.body is not None:
            self.body.advance(True)
        self.finished = True
        last = self._emit(final=True)
        if first is None:
            return last
        if last is None:
            return first
        return _concat_frames(first, last)

    def close(self) -> None:
        if self._whole is not None:
            return
        close = getattr(self.lip, "close", None)
        if close is not None:
            close()

    def _add_lips(self, curves: np.ndarray) -> None:
        if len(curves):
            self._curves = np.concatenate([self._curves, np.asarray(curves, np.float32)])
            self._lip_done += len(curves)

    def _drive(self, speech: np.ndarray, closed: bool = False) -> None:
        n = len(speech)
        if n:
            keep = int(2.0 / TICK_S)
            runs = self._speech_runs
            j = self._hist_k0 + self._hist_n
            for v in speech.tolist():
                if v:
                    if runs and runs[-1][1] == j:
                        runs[-1][1] = j + 1
                    else:
                        runs.append([j, j + 1])
                j += 1
            self._hist_n += n
            if self._hist_n > 2 * keep:
                cut = self._hist_n - keep
                self._hist_n = keep
                self._hist_k0 += cut
                while runs and runs[0][1] <= self._hist_k0:
                    del runs[0]
        k0 = self._driven
        self._driven += n
        if self.eyes_head is None and self.upper is None:
            return
        vad, w = self.emotion_at(_times(k0, n, TICK_S, False))
        if self.eyes_head is not None and (n or closed):
            # eyes and head need audio only to the tick (no lookahead), the lip-sync engine
            # 75 ms past it: their ticks wait here until a frame needs them (see _drive_eyes_head)
            self._eh_pending.append((speech, vad, w))
            if closed:
                self._drive_eyes_head(closed=True)
        if self.upper is not None:
            if n:
                # no timeline: the same (neutral) row every tick, kept as (None, that row, n); a
                # timeline's hold (its rows one key's state: emotion.stage.LiveTimeline.held_row)
                # likewise as (None, the hold's row, n)
                one = self._fixed
                if one is None:
                    held = getattr(self.emotion, "held_row", None)
                    one = held(w) if held is not None else None
                self._up_emo.append((w, vad[:, 1]) if one is None else (None, one, n))
            if closed:
                self._drive_upper(closed=True)

    def _upper_frames(self) -> int:
        """Frames [0, n) the upper face's ticks computed so far cover (asked several times a
        chunk: computed when the ticks change)."""
        key = (self._upper_k0, len(self._upper))
        if key != self._up_frames_key:
            if not key[1]:
                n = 0
            else:
                t_up = (key[0] + key[1] - 1) * TICK_S
                n = math.floor(t_up * self.fps + 1e-9) + 1  # (np.floor's value, on a float)
            self._up_frames_key, self._up_frames = key, n
        return self._up_frames

    def _drive_upper(self, closed: bool = False, need: int | None = None) -> None:
        """Give the upper face its waiting audio and emotion ticks and take its new ticks. Run
        lazily, as the eyes and head: only when a frame that may leave needs it (``need``) or at
        the end. It needs audio to ~56 ms past a frame, the learned lip-sync 75 ms, so about
        every other chunk has no new frame for it; the stage is chunking-independent."""
        if self._feed_upper(closed, need):
            self.upper_take(self.upper.step((self.upper.n_ticks_total + 1) * TICK_S))

    def upper_step_request(self, early: bool = False) -> float | None:
        """Between :meth:`upper_pitch_request` and :meth:`end_emit`: when this chunk's frames will
        drive the upper face, give it its waiting audio and emotion ticks and return the
        ``until_s`` of its step (the caller steps many graphs' upper faces at once with
        ``face.upper.step_many`` and hands each its ticks with :meth:`upper_take`); None: nothing
        to do now. The same numbers as the step :meth:`end_emit` would make (live_batch.tick).
        ``early``: the step now, needed or not (see :meth:`upper_due`)."""
        if self.upper is None:
            return None
        if early:
            if not self._keyed:  # (upper_due says early only for a keyed graph)
                return None
            self._feed_upper(False, None)
        elif self._lip_done <= self.next_index or not self._feed_upper(False, self._lip_done):
            return None
        return (self.upper.n_ticks_total + 1) * TICK_S

    def upper_take(self, ticks: np.ndarray) -> None:
        """The upper face's new ticks (its step's result) appended to those not yet sent."""
        if len(ticks):
            self._upper = ticks if self._upper.size == 0 else np.concatenate([self._upper, ticks])

    def _feed_upper(self, closed: bool, need: int | None) -> bool:
        """:meth:`_drive_upper` up to the step: False when no step is needed now."""
        if need is not None and (self._upper_frames() >= need or not (self._up_audio or self._up_emo or self._up_fed)):
            return False
        self._up_fed = self._up_given = False
        if not self._keyed:
            self._key_stages()
        if self._up_audio:
            x = self._up_audio[0] if len(self._up_audio) == 1 else np.concatenate(self._up_audio)
            self._up_audio = []
            self.upper.feed_audio(x)
        if self._up_emo:
            q, self._up_emo = self._up_emo, []
            if all(e[0] is None and e[1] is q[0][1] for e in q):  # one row (fixed, or a hold's): fed repeated
                vad0, w0 = q[0][1]
                self.upper.feed_emotion_repeated(w0, vad0[:, 1], sum(e[2] for e in q))
            else:  # the rows emotion_at gave (a fixed entry: its row repeated, as emotion_at does)
                q = [(np.repeat(e[1][1], e[2], axis=0), np.repeat(e[1][0][:, 1], e[2])) if e[0] is None else e
                     for e in q]
                w, a = q[0] if len(q) == 1 else (np.concatenate([e[j] for e in q]) for j in range(2))
                self.upper.feed_emotion(w, a)
        if closed:
            pad = self.upper.n_ticks_total - self._driven
            if pad > 0:  # the last tick(s) at or after the end of the audio
                v2, w2 = self.emotion_at((self._driven + np.arange(pad)) * TICK_S)
                self.upper.feed_emotion(w2, v2[:, 1])
            self.upper.close()
        return True

    def _eyes_head_frames(self) -> int:
        """Frames [0, n) the eyes + head stage can render now (``EyesHeadStream.ready_frames``:
        kept by the stream, it changes only when the stream is fed)."""
        return self.eyes_head.ready_frames

    def _drive_eyes_head(self, closed: bool = False, need: int | None = None) -> None:
        """Give the eyes + head stage its waiting ticks, in one call. Run lazily: only when a
        frame that may leave needs them (``need``: frames [0, need) are final elsewhere) or at
        the end. Their per-call cost is fixed, so one call per ~4 chunks instead of one per
        chunk; the stage is chunking-independent, so the frames are the same."""
        p = self._eyes_head_take(closed, need)
        if p is not None:
            self.eyes_head.feed(*p, closed=closed)

    def _eyes_head_take(self, closed: bool = False, need: int | None = None) -> tuple | None:
        """The waiting eyes + head ticks, concatenated, when :meth:`_drive_eyes_head` would feed
        them now (the stage keyed first); None otherwise."""
        if not self._eh_pending or (need is not None and self._eyes_head_frames() >= need):
            return None
        if not self._keyed:
            self._key_stages()
        p, self._eh_pending = self._eh_pending, []
        if len(p) == 1:
            return p[0]
        return tuple(np.concatenate([q[j] for q in p]) for j in range(3))

    # ------------------------------------------------------------------------------ output
    def _emit(self, final: bool) -> LiveFrames | None:
        n = self.emit_count(final)
        if n <= 0:
            return None
        out = self.emit_curves(n)
        rendered = self.eyes_head.render(out.curves, out.first) if self.eyes_head is not None else None
        return self.emit_done(out, rendered)

    # the phases of _emit (emit_count, emit_curves, eyes + head render, emit_done) are public for
    # live_batch.tick, which runs each phase for all its graphs and the eyes + head render of all
    # of them in one call (face/eyes_head.render_many)
    def upper_window(self, out: LiveFrames) -> tuple | None:
        """``face.upper.add_to_frames``'s window for ``out`` (from ``emit_curves(n, False)``):
        (curves, frame times, upper-face ticks, first tick), or None: nothing to add."""
        if self.upper is None or not len(self._upper):
            return None
        return out.curves, _times(out.first, len(out), self.fps, True), self._upper, self._upper_k0

    def upper_sent(self, times: np.ndarray) -> None:
        """The upper face has been added to the frames at ``times``: drop the ticks that no
        later frame reads."""
        # ticks before the next frame (math.floor: np.floor's value, without a numpy scalar op)
        keep = max(0, math.floor(times[-1] / TICK_S) - 1 - self._upper_k0)
        if keep:
            self._upper = self._upper[keep:]
            self._upper_k0 += keep

    def eyes_head_request(self) -> tuple | None:
        """Before :meth:`emit_count`: when the frames that may leave now need more eyes + head
        ticks, the driver ticks waiting for them as (speech, vad, weights) (the caller feeds many
        graphs' streams at once with ``face.eyes_head.feed_many``); None: nothing to feed now.
        The same feed :meth:`emit_count` would make (live_batch.tick)."""
        if self.eyes_head is None:
            return None
        n_final = self._final_before_eyes_head()
        # emit_count, next in live_batch.tick, reads it again while nothing it depends on has
        # moved (the eyes + head feed in between does not touch the lips, upper face or body)
        self._pre_final = (self._final_key(), n_final)
        if n_final <= self.next_index:
            return None
        return self._eyes_head_take(need=n_final)

    def eyes_head_can_early(self) -> bool:
        """Whether :meth:`eyes_head_early_request` would feed the eyes + head stage its waiting
        ticks before a frame needs them: only a keyed graph (the keying reads the first audio,
        :meth:`_key_stages`) that never had an emotion timeline. Why the timeline: the stage
        gives the same frames whatever its feeds with neutral emotion rows (tests/test_live_batch.py),
        not with a timeline's changing rows (their frames move by ~1e-4 with the feeds)."""
        return self.eyes_head is not None and self._keyed and not self._ever_timed and bool(self._eh_pending)

    def eyes_head_early_request(self) -> tuple | None:
        """After :meth:`eyes_head_request` said None: the waiting driver ticks as it returns
        them, for a feed now though no frame needs them yet (live_batch.tick feeds the minority
        of sessions at other chunk phases early so that they fall due with the rest); None when
        :meth:`eyes_head_can_early` is False."""
        return self._eyes_head_take() if self.eyes_head_can_early() else None

    def _final_key(self) -> tuple:
        """What :meth:`_final_before_eyes_head` reads and drives: the audio pieces taken in (each
        ``begin`` and ``finish`` counts), the lips done, the frames sent, the upper face's ticks."""
        up = (self._upper_k0, len(self._upper)) if self.upper is not None else None
        return (self.received, self.finished, self._lip_done, self.next_index, self._driven, up)

    def _final_before_eyes_head(self) -> int:
        n_final = self._lip_done
        if self.upper is not None:
            if n_final > self.next_index:
                self._drive_upper(need=n_final)
            n_final = min(n_final, self._upper_frames())
        if self.body is not None:
            n_final = min(n_final, self.body.available)
        return n_final

    def emit_count(self, final: bool = False) -> int:
        """Frames that may leave now (0: none), the lazy stages driven as far as they need
        (``final``: the input has ended, every remaining frame)."""
        n_final = self._lip_done
        if not final:
            pre, self._pre_final = self._pre_final, None
            hit = pre is not None and pre[0] == self._final_key()
            n_final = pre[1] if hit else self._final_before_eyes_head()
            if self.eyes_head is not None:
                # (after eyes_head_request the stage has been given what these frames need)
                if n_final > self.next_index and not hit:
                    self._drive_eyes_head(need=n_final)
                n_final = min(n_final, self._eyes_head_frames())
            if self.next_index > 0 and n_final - self.next_index < self.emit_frames:
                return 0
        return max(0, n_final - self.next_index)

    def emit_curves(self, n: int, add_upper: bool = True, mixed=None) -> LiveFrames:
        """The next ``n`` frames up to the eyes + head render (lips, emotion, upper face;
        ``add_upper`` False: without the upper face, which the caller then adds for many graphs
        at once: :meth:`upper_window` + ``face.upper.add_to_frames`` + :meth:`upper_sent`).
        ``mixed``: the caller has mixed them (``(curves,)``, from :meth:`mix_request`'s inputs;
        ``(None,)``: nothing to mix)."""
        i0 = self.next_index
        curves = self._curves[:n]
        self._curves = self._curves[n:]
        if mixed is not None:
            if mixed[0] is not None:
                curves = mixed[0]
        elif self.parts.get("emotion") and not self._at_rest:  # (at rest the mixer is a no-op)
            curves = self._mix_emotion(curves, np.arange(i0, i0 + n) / self.fps)
        if add_upper and self.upper is not None and len(self._upper):
            curves = self._add_upper(curves, np.arange(i0, i0 + n) / self.fps)
        return LiveFrames(i0, np.asarray(curves, np.float32))

    def emit_done(self, out: LiveFrames, rendered: tuple | None) -> LiveFrames:
        """``out`` completed with the eyes + head render (``EyesHeadStream.render``'s result for
        ``out.curves``, None without eyes/head) and the body; the frames leave."""
        n = len(out)
        if rendered is not None:
            out.curves, head, eyes = rendered
            out.head = head if self.parts.get("head") else None
            out.eyes = eyes if self.parts.get("eyes") else None
        if self.body is not None:
            out.joints, out.root = self.body.frames(out.first, out.first + n)
        self.next_index += n
        return out

    def _add_upper(self, curves: np.ndarray, times: np.ndarray) -> np.ndarray:
        """The upper face's offsets at the frame times, added as the bake does (face/upper.py
        apply_upper: spreading channels halved where the lips round), after the mixer and
        before the eyes close the lids over it (``face.upper.add_to_frames`` of one window)."""
        from .face.upper import add_to_frames

        curves = add_to_frames([(curves, times, self._upper, self._upper_k0)])[0]
        self.upper_sent(times)
        return curves

    def _speaking_phones(self, t0: float, t1: float) -> list[tuple[float, float, str]]:
        """Speech intervals from the causal activity (the mixer's speaking zones when the
        lip-sync engine has no phones)."""
        # the runs of the history window (a run older than the window starts at its first tick),
        # kept per tick by _drive instead of re-found in the whole 2-4 s window per call: the
        # same integers, so the same times
        k0 = self._hist_k0
        lo, hi = t0 - 0.5, t1 + 0.5
        out = []
        for s, e in self._speech_runs:
            ts, te = max(s, k0) * TICK_S, e * TICK_S
            if te > lo and ts < hi:
                out.append((ts, te, "speech"))
        return out

    def _mix_emotion(self, lips: np.ndarray, times: np.ndarray) -> np.ndarray:
        from .face.mixer import mix

        r = self._mix_inputs(lips, times)
        return np.asarray(lips, np.float32) if r is None else mix(*r).astype(np.float32)

    def _mix_inputs(self, lips: np.ndarray, times: np.ndarray, lazy: bool = False) -> tuple | None:
        """The mixer's inputs for frames ``lips`` at ``times`` (``face.mixer.mix``'s arguments),
        or None when it would return the lips unchanged. ``lazy``: the expression offsets left
        to the caller as ``face.expression.expression_offsets_many``'s item (weights, vad,
        times, seed), for many graphs in one call."""
        if self._at_rest is None:
            self._at_rest = self._emotion_at_rest()
        if self._at_rest:  # no timeline, neutral and calm: the check below at every frame, once
            return None
        vad, w = self.emotion_at(times)
        calm = self._calm
        if calm is None or calm[0] is not w or calm[1] is not vad:
            # (a hold gives the same read-only rows every tick: their answer is kept with them)
            calm = self._calm = (w, vad, _neutral_calm(vad, w))
        if calm[2]:
            # neutral and calm: no expression and no arousal gain, so the mixer returns the lips
            # unchanged (tests/test_live_batch.py checks it against mix): skip its per-call cost
            return None
        if lazy:
            expr = (w, vad, times, self.seed)
        else:
            from .face.expression import expression_offsets

            expr = expression_offsets(w, vad, times, seed=self.seed)
        phones = getattr(self.lip, "phones", None)
        if phones is None:
            phones = self._speaking_phones(float(times[0]), float(times[-1]))
        return lips, expr, times, phones, vad[:, 1]

    def mix_request(self, n: int, lazy: bool = False) -> tuple | None:
        """Before ``emit_curves(n, mixed=...)``: the mixer's inputs for the next ``n`` frames
        (live_batch.tick mixes every graph's in one ``face.mixer.mix_many`` call), or None when
        the mixer would leave them as they are. ``lazy``: see :meth:`_mix_inputs`."""
        if not self.parts.get("emotion") or self._at_rest:
            return None
        i0 = self.next_index
        return self._mix_inputs(self._curves[:n], _times(i0, n, self.fps, True), lazy)


def _times(i0: int, n: int, rate, divide: bool) -> np.ndarray:
    """``np.arange(i0, i0 + n) / rate`` (``divide``) or ``np.arange(i0, i0 + n) * rate``: frame or
    tick times. A LIVE window has 1-8 of them, made from Python numbers: an integer below 2**53
    is exact as a float, so ``i / rate`` and ``i * rate`` are the same IEEE operation as numpy's
    on the int64 grid, at a fraction of its per-call cost."""
    if n > 8 or abs(i0) + n >= 2 ** 53:
        g = np.arange(i0, i0 + n)
        return g / rate if divide else g * rate
    r = range(i0, i0 + n)
    return np.array([i / rate for i in r] if divide else [i * rate for i in r], np.float64)


def _neutral_is_zero() -> bool:
    from .face.expression import CATEGORY_AU

    return not np.any(CATEGORY_AU[0])


#: the neutral prototype moves nothing (face/expression.py PROTOTYPES["neutral"] == {})
_NEUTRAL_IS_ZERO = _neutral_is_zero()


def _neutral_calm(vad: np.ndarray, w: np.ndarray) -> bool:
    """Emotion rows that move nothing: all weight on neutral (whose prototype is empty) and no
    arousal, so the mixer would return the lips unchanged."""
    return _NEUTRAL_IS_ZERO and not w[:, 1:].any() and not vad[:, 1].any()


# ---------------------------------------------------------------------------------- LIVE body
def body_lookahead_s() -> float:
    """Upper bound of how far finished body frames trail the audio received (the gesture
    sampler's fixed window schedule: gesture.sampler.stream_lookahead_s)."""
    from .gesture.sampler import load_model, stream_lookahead_s
    from .gesture.stage import MODEL_NAME

    return stream_lookahead_s(load_model(MODEL_NAME))


class BodyStream:
    """The gesture stage's streaming sampler (GestureStream) in the LIVE graph: audio pushed as
    frames are next made, finished blocks buffered until the other stages have the same frames."""

    def __init__(self, fps: int, seed: int, emotion_at) -> None:
        from .gesture.features import EMOTION_DIM
        from .gesture.sampler import GestureSettings, GestureStream, load_model
        from .gesture.stage import MODEL_NAME

        def emotion(t: float) -> np.ndarray:
            vad, w = emotion_at(np.array([t]))
            v = np.concatenate([w[0], vad[0], [1.0]]).astype(np.float32)
            return v if len(v) == EMOTION_DIM else np.zeros(EMOTION_DIM, np.float32)

        self.stream = GestureStream(emotion, GestureSettings(seed=seed, fps=fps), load_model(MODEL_NAME))
        self.n_joints = len(self.stream.skel.names)
        self._pending: list[np.ndarray] = []
        self._pushed = 0
        self._q: list[np.ndarray] = []
        self._root: list[np.ndarray] = []
        self._first = 0  # frame index of the first buffered frame
        self.available = 0  # frames [0, available) are finished
        self.finished = False

    def feed(self, x: np.ndarray) -> None:
        if len(x):
            self._pending.append(np.asarray(x, np.float32))

    def advance(self, final: bool = False) -> None:
        if self.finished:
            return
        if self._pending:
            x = np.concatenate(self._pending)
            self._pending = []
            self._pushed += len(x)
            self._take(self.stream.push(x))
        if final:
            self.finished = True
            if self._pushed:
                self._take(self.stream.finish())

    def _take(self, blocks) -> None:
        for b in blocks:
            self._q.append(np.asarray(b.rotations, np.float32))
            self._root.append(np.asarray(b.root_positions, np.float32))
            self.available = b.start + len(b.rotations)

    def frames(self, i0: int, i1: int) -> tuple[np.ndarray, np.ndarray]:
        """Joint rotations (n, J, 4) and root (n, 3) for frames [i0, i1); earlier ones are dropped.
        Frames past the end of the body stream (at most one, rounding) repeat its last pose."""
        q = np.concatenate(self._q) if self._q else np.zeros((0, self.n_joints, 4), np.float32)
        r = np.concatenate(self._root) if self._root else np.zeros((0, 3), np.float32)
        a, b = i0 - self._first, i1 - self._first
        if b > len(q) and len(q):
            pad = b - len(q)
            q = np.concatenate([q, np.repeat(q[-1:], pad, 0)])
            r = np.concatenate([r, np.repeat(r[-1:], pad, 0)])
        out = q[a:b], r[a:b]
        keep = min(b, len(q))
        self._q, self._root = ([q[keep:]], [r[keep:]]) if keep < len(q) else ([], [])
        self._first += keep
        return out

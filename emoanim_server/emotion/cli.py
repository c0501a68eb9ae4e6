"""``emoanim bake`` emotion flags: defined here, wired in by the CLI edge (cli.STAGE_FLAGS).

Why values are parsed in the option hook and not by argparse ``type=``: argparse errors exit
with 2 (usage); a bad *value* is bad input and must exit 3 with one line naming the flag.
"""
from __future__ import annotations

import argparse

from ..errors import InputError


def add_emotion_args(p: argparse.ArgumentParser) -> None:
    """Flags of ``bake``; values are only read here, checked in :func:`emotion_options`."""
    g = p.add_argument_group("emotion (docs/emotion.md)")
    g.add_argument("--emotion", metavar="SPEC",
                   help="happy:0.7 | 'happy:0.5,surprised:0.3' | auto | 'auto,sad:0.3' "
                        "(categories: neutral happy sad angry fearful disgusted surprised contempt)")
    g.add_argument("--vad", metavar="V,A,D", help="valence,arousal,dominance, each -1..1 (e.g. 0.6,0.4,0.1)")
    g.add_argument("--emotion-timeline", metavar="JSON", help="keyframed emotion timeline file")
    g.add_argument("--emotion-baseline", metavar="WAV", action="append",
                   help="with --emotion auto: a neutral line by the same speaker, the reference arousal "
                        "is measured against (repeatable)")


def emotion_options(args: argparse.Namespace, opts) -> None:
    """Parsed flags -> ``opts.emotion`` (EmotionControls; ``opts`` is the typed StageOptions);
    InputError (exit 3) on bad values."""
    # imported here, not at module level: every ``emoanim`` start imports this module for its
    # flags, and the stage pulls in numpy (issue 14: CLI start-up)
    from .stage import EmotionControls, controls_from
    from .timeline import EmotionTimeline, load_timeline, parse_emotion, parse_vad

    spec, vad, path = getattr(args, "emotion", None), getattr(args, "vad", None), \
        getattr(args, "emotion_timeline", None)
    auto = False
    state = None
    if spec is not None:
        state, auto = parse_emotion(spec, "--emotion")
    given = [n for n, v in (("--emotion", state), ("--vad", vad), ("--emotion-timeline", path)) if v is not None]
    if len(given) > 1:
        raise InputError(f"{' and '.join(given)}: give only one emotion source "
                         f"(--emotion auto may be combined with --vad or --emotion-timeline)")
    baseline = None
    refs = getattr(args, "emotion_baseline", None)
    if refs:
        if not auto:
            raise InputError("--emotion-baseline: only used with --emotion auto")
        from ..audio import load_audio
        from ..audio.prosody import analyse
        from .auto import speaker_baseline

        baseline = speaker_baseline([analyse(load_audio(r).samples) for r in refs])
    if path is not None:
        controls = EmotionControls(load_timeline(path), auto=auto, source="timeline")
    elif vad is not None:
        controls = EmotionControls(EmotionTimeline.constant(parse_vad(vad, "--vad")), auto=auto, source="vad")
    elif spec is not None:
        controls = controls_from(spec)
    else:
        return
    if baseline is not None:
        controls = EmotionControls(controls.timeline, controls.auto, controls.source, baseline)
    opts.emotion = controls

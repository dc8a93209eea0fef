import math
import shutil

import numpy as np
import pytest

from alpr_lib.errors import RecognitionError
from alpr_lib.recognition.formats import ALPHABET
from alpr_lib.recognition.ocr import (
    PlateOCR,
    beam_decode,
    cut_window,
    default_companion_paths,
    default_model_path,
    greedy_decode,
    sha256_of,
    verify_model,
)
from alpr_lib.recognition.render import render_plate


def _logp(path: str, t: int = 32) -> np.ndarray:
    """A T x 37 log-prob matrix spelling ``path`` ('-' = blank), 0.9 on the path."""
    m = np.full((t, len(ALPHABET) + 1), 0.1 / len(ALPHABET))
    for i in range(t):
        ch = path[i] if i < len(path) else "-"
        m[i, 0 if ch == "-" else ALPHABET.index(ch) + 1] = 0.9
    return np.log(m / m.sum(1, keepdims=True))


def test_greedy_and_beam_decode_collapse_repeats_and_blanks():
    lp = _logp("AA-B-B-11-1")
    text, confs = greedy_decode(lp)
    assert text == "ABB11"
    assert len(confs) == 5 and all(0.85 < c <= 1 for c in confs)
    cands = beam_decode(lp, top_n=5)
    assert cands[0].plate == "ABB11"
    assert cands[0].logprob > cands[1].logprob
    assert 0 < cands[0].confidence <= 100


def test_model_checksum_is_pinned_and_verified():
    path = default_model_path()
    pin = path.with_name(path.name + ".sha256").read_text().split()[0]
    assert verify_model(path) == pin == sha256_of(path)


def test_tampered_model_is_refused(tmp_path):
    src = default_model_path()
    bad = tmp_path / src.name
    shutil.copy(src, bad)
    shutil.copy(src.with_name(src.name + ".sha256"), tmp_path / (src.name + ".sha256"))
    data = bytearray(bad.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(RecognitionError, match="checksum"):
        PlateOCR(bad)
    with pytest.raises(RecognitionError, match="checksum"):
        PlateOCR(src, expected_sha256="0" * 64)


def test_model_without_pin_is_refused(tmp_path):
    src = default_model_path()
    shutil.copy(src, tmp_path / src.name)
    with pytest.raises(RecognitionError, match="pinned checksum"):
        PlateOCR(tmp_path / src.name)


def test_ocr_reads_windows_with_per_character_confidences():
    ocr = PlateOCR()
    rng = np.random.default_rng(3)
    windows = []
    for text in ("ABC1234", "7XYZ889"):
        p = render_plate(text, rng, "NY", height=40)
        h, w = p.image.shape[:2]
        windows.append(cut_window(p.image, np.float32([[0, 0], [w, 0], [w, h], [0, h]])))
    readings = ocr.read(windows, top_n=5)
    assert len(readings) == 2
    for r in readings:
        assert len(r.char_confidences) == len(r.plate)
        assert all(0 <= c <= 1 for c in r.char_confidences)
        assert 1 <= len(r.candidates) <= 5
        assert r.candidates[0].confidence >= r.candidates[-1].confidence or len(r.plate) != len(r.candidates[-1].plate)
        assert not math.isnan(r.confidence)


def test_beam_never_returns_impossible_strings():
    # no blank anywhere: "AAB" can only be read as "AB"; impossible prefixes must not leak out as -inf
    m = np.full((6, len(ALPHABET) + 1), 1e-12)
    a, b = ALPHABET.index("A") + 1, ALPHABET.index("B") + 1
    m[:3, a] = 1.0
    m[3:, b] = 1.0
    lp = np.log(m / m.sum(1, keepdims=True))
    cands = beam_decode(lp, top_n=10, prune=1e-3)
    assert cands[0].plate == "AB"
    assert all(math.isfinite(c.logprob) and 0 < c.confidence <= 100 for c in cands)


def test_shipped_ensemble_members_are_pinned_and_verified(tmp_path):
    ocr = PlateOCR()
    assert [p.name for p in ocr.companion_paths] == [p.name for p in default_companion_paths()]
    for path in default_companion_paths():
        assert verify_model(path) == path.with_name(path.name + ".sha256").read_text().split()[0]
    bad = tmp_path / "member.onnx"
    member = default_companion_paths()[0]
    data = bytearray(member.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    shutil.copy(member.with_name(member.name + ".sha256"), tmp_path / "member.onnx.sha256")
    with pytest.raises(RecognitionError, match=r"ensemble member.*checksum"):
        PlateOCR(companions=[bad])


def test_a_named_model_is_read_alone_and_the_ensemble_averages_probabilities():
    """A candidate model passed by path is measured without the shipped members; the ensemble's
    log-probabilities are the log of its members' averaged probabilities."""
    assert PlateOCR(default_model_path()).companion_paths == ()
    rng = np.random.default_rng(5)
    p = render_plate("KZ4419", rng, "TX", height=36)
    h, w = p.image.shape[:2]
    windows = [cut_window(p.image, np.float32([[0, 0], [w, 0], [w, h], [0, h]]))]
    ens = PlateOCR()
    members = [PlateOCR(path) for path in (default_model_path(), *default_companion_paths())]
    probs = np.mean([np.exp(m.log_probs(windows)) for m in members], axis=0)
    assert np.allclose(np.exp(ens.log_probs(windows)), probs, atol=1e-5)
    assert np.allclose(ens.log_probs(windows, ensemble=False), members[0].log_probs(windows), atol=1e-6)
    assert not np.allclose(members[0].log_probs(windows), members[1].log_probs(windows), atol=1e-3)


def _beam_by_definition(logp: np.ndarray, beam: int = 10, top_n: int = 10, prune: float = 2e-3):
    """CTC prefix beam search written plainly (every step the same way, numpy rows): what the fast
    ``beam_decode`` must return exactly."""
    neg = -math.inf

    def lae(a, b):
        return b if a == neg else a if b == neg else max(a, b) + math.log1p(math.exp(-abs(a - b)))

    beams = {"": (0.0, neg)}
    for t in range(logp.shape[0]):
        ks = [(int(k), float(logp[t, k])) for k in np.nonzero(logp[t] > math.log(prune))[0]]
        nxt: dict[str, list[float]] = {}
        for prefix, (pb, pnb) in beams.items():
            total, last = lae(pb, pnb), prefix[-1:]
            for k, p in ks:
                if k == 0:
                    cur = nxt.setdefault(prefix, [neg, neg])
                    cur[0] = lae(cur[0], total + p)
                    continue
                ch = ALPHABET[k - 1]
                if ch == last:
                    if pb > neg:
                        cur = nxt.setdefault(prefix + ch, [neg, neg])
                        cur[1] = lae(cur[1], pb + p)
                    if pnb > neg:
                        cur = nxt.setdefault(prefix, [neg, neg])
                        cur[1] = lae(cur[1], pnb + p)
                else:
                    cur = nxt.setdefault(prefix + ch, [neg, neg])
                    cur[1] = lae(cur[1], total + p)
        ranked = sorted(nxt.items(), key=lambda kv: (-lae(*kv[1]), kv[0]))[:beam]
        beams = {k: (v[0], v[1]) for k, v in ranked}
    out = sorted(((k, lae(*v)) for k, v in beams.items() if k and lae(*v) > neg), key=lambda kv: (-kv[1], kv[0]))
    return out[:top_n]


@pytest.mark.parametrize("seed", range(12))
def test_fast_beam_decode_is_the_plain_search_exactly(seed):
    # peaked matrices like a plate's (mostly blank steps, some ambiguous ones) and flat ones (no fast path)
    rng = np.random.default_rng(seed)
    t, c = 32, len(ALPHABET) + 1
    logits = rng.normal(0, 1.0 if seed % 3 == 0 else 0.3, (t, c))
    if seed % 3:
        logits[:, 0] += rng.choice([0.0, 9.0], t, p=[0.35, 0.65])  # blank-only steps
        for i in rng.choice(t, 8, replace=False):
            logits[i, rng.integers(1, c, 2)] += rng.uniform(3, 8, 2)  # one or two characters compete
    lp = (logits - np.log(np.exp(logits).sum(1, keepdims=True))).astype(np.float32)
    for beam, top_n in ((10, 10), (3, 5)):
        got = [(cand.plate, cand.logprob) for cand in beam_decode(lp, beam=beam, top_n=top_n)]
        assert got == _beam_by_definition(lp, beam=beam, top_n=top_n)
        assert got

"""Key frames fused and in-between frames made as a stream: each key frame super-resolved once, each fusion pass run
once per key frame, each flow found once, however the video is cut into windows (issue 19).

Windowed, a window super-resolved the key frames within the fusion's reach beyond its core again (5 of 21 per
window of 16) and fused them with neighbours cut off at its edges. A KeyStream takes the windows' key frames
before the fusion (TPNet.key_frames) in order and gives the outputs back as soon as they are final: key frame j
at pass p + 1 once its neighbours within reach exist at pass p, so output 2j comes out reach x passes key frames
after key j went in (8 for `default`), and the midpoint 2j + 1 once keys j and j + 1 are final. Each pass's
neighbours are the whole video's (cut only at its ends), so a windowed run gives what one whole-clip pass gives,
but for TPSRM's own window edges. Memory: about reach x (passes + 1) key frames held past the last one out.

Indices count key frames from the stream's first (output 2j is key j); tensors are [B, 3, sH, sW] and the
inputs [B, 3, H, W], float32 (the parameter-free part, as in TPNet). No I/O; the engine (engine/stream.py)
feeds it window by window.
"""

import torch

from ..engine.stage_clock import timed
from ..engine.team import each, groups, workers
from .dense_flow import flows_for_pairs, grey_u8, half_grey


class KeyStream:
    def __init__(self, net, midpoints: bool = True):
        self.net, self.fusion, self.with_midpoints = net, net.neighbours, midpoints
        self.passes = self.fusion.passes if self.fusion is not None else 0
        self.every = self.fusion.flow_every if self.fusion is not None else 1
        self.levels: list[dict] = [{} for _ in range(self.passes + 1)]  # pass p: {j: key j after p passes}
        self.inputs: dict = {}  # j: input frame j
        self.motion: dict = {}  # j: (dy, dx) between inputs j and j + 1
        self.flows: dict = {}  # (flow set, j, i): flow from key j to key i (set s: found after s * every passes)
        self.greys: dict = {}  # (flow set, j): key j as the flow sees it (grey, half size)
        self.made = [0] * (self.passes + 1)  # keys 0 .. made[p] - 1 have been through p passes (some dropped since)
        self.end: int | None = None  # the count, once the stream is finished
        self.emitted = 0  # outputs handed out

    def push(self, inputs: torch.Tensor, keys: torch.Tensor, motion: dict) -> None:
        """The next key frames [B, n, 3, sH, sW] before the fusion, their input frames [B, n, 3, H, W], and
        {j: (dy, dx)} the midpoint motion of pairs (j, j + 1) by stream index (each pair's, once, before it is due)."""
        if self.end is not None:
            raise ValueError("the key-frame stream is finished")
        for i in range(keys.shape[1]):  # copies, not views: each frame's memory goes as soon as it is dropped
            self.inputs[self.count + i] = inputs[:, i].clone()
            self.levels[0][self.count + i] = keys[:, i].clone()
        self.made[0] += keys.shape[1]
        self.motion.update(motion)

    def finish(self) -> None:
        """No more key frames: those near the end are fused with the neighbours there are."""
        self.end = self.count

    def pop(self) -> list[torch.Tensor]:
        """The outputs that are final now, in order (output 2j: key j; 2j + 1: halfway to key j + 1)."""
        self._advance()
        out: list[torch.Tensor] = []
        while True:
            ready = self._ready_outputs()
            if not ready:
                return out
            made = each(self._output, ready)  # midpoints two at once on the engine's team
            out.extend(frame for frame in made if frame is not None)
            self.emitted += len(ready)
            self._forget()

    def _ready_outputs(self) -> list[int]:
        """The next outputs that can be made now, at most as many midpoints as `each` runs at once."""
        ready, o, final, mids = [], self.emitted, self.levels[self.passes], 0
        while mids < workers():
            j = o // 2
            if self.end is not None and o > 2 * self.end - 2:
                break
            if not (j in final if o % 2 == 0 else not self.with_midpoints or j + 1 in final):
                break
            ready.append(o)
            mids += o % 2
            o += 1
        return ready

    def _output(self, o: int) -> torch.Tensor | None:
        """Output o (None for an in-between output a keys-only stream skips)."""
        if o % 2 == 0:
            return self.levels[self.passes][o // 2]
        return self._midpoint(o // 2) if self.with_midpoints else None

    @property
    def count(self) -> int:
        """Key frames pushed so far."""
        return self.made[0]

    def _near(self, j: int) -> list[int]:
        return self.fusion.neighbours(j, self.count if self.end is None else self.end)

    def _ready(self, j: int, p: int) -> bool:
        """Key j can go from pass p to p + 1: it and its neighbours within reach exist after p passes."""
        if j not in self.levels[p] or (self.end is None and j + self.fusion.reach >= self.count):
            return False
        return all(i in self.levels[p] for i in self._near(j))

    def _advance(self) -> None:
        """Every pass that can run now, in order of passes and key frames."""
        for p in range(self.passes):
            targets = []
            while self.made[p + 1] + len(targets) < self.count and self._ready(self.made[p + 1] + len(targets), p):
                targets.append(self.made[p + 1] + len(targets))
            self._find_flows(targets, p)
            for group in groups(targets):  # as many at once as the engine's team runs (one without a team)
                with timed("fusion"):
                    fused = each(lambda j, p=p: self._fuse(j, p), group)
                for j, frame in zip(group, fused):
                    self.levels[p + 1][j] = frame
                self.made[p + 1] = group[-1] + 1
                self._forget()  # pass p's keys go while pass p + 1's come: about 2 x reach + 1 of each held

    def _fuse(self, j: int, p: int) -> torch.Tensor:
        """Key j after pass p + 1."""
        near, s, before = self._near(j), p // self.every, self.levels[p]
        return self.fusion.fuse(
            before[j], self.inputs[j], [before[i] for i in near], [self.flows[s, j, i] for i in near]
        )

    def _find_flows(self, targets: list[int], p: int) -> None:
        """The flows from each target to its neighbours that pass p uses and that are not found yet: found on the
        keys after the first pass of their set (as NeighbourFusion.refine finds them), once per set, all at once
        (flows_for_pairs runs one per thread)."""
        s = p // self.every
        missing = [(j, i) for j in targets for i in self._near(j) if (s, j, i) not in self.flows]
        if not missing:
            return
        level = self.levels[s * self.every]
        start = {(j, i): self.flows[s - 1, j, i] for j, i in missing} if s else None  # set s refines set s - 1
        with timed("flow"):
            for k in sorted({k for pair in missing for k in pair}):
                if (s, k) not in self.greys:
                    self.greys[s, k] = half_grey(grey_u8(level[k]))
            greys = {k: self.greys[s, k] for pair in missing for k in pair}
            found = flows_for_pairs(greys, missing, level[targets[0]].shape[-2:], level[targets[0]].device, start)
        self.flows.update({(s, a, b): f for (a, b), f in found.items()})

    def _midpoint(self, j: int) -> torch.Tensor:
        final = self.levels[self.passes]
        dy, dx = self.motion[j]
        flows = None
        if self.passes:  # the fusion's first flows serve the vote, as in TPNet: per batch item
            ahead, back = self.flows[0, j, j + 1], self.flows[0, j + 1, j]
            flows = [(ahead[n : n + 1], back[n : n + 1]) for n in range(ahead.shape[0])]
        return self.net.midpoints(final[j], final[j + 1], self.inputs[j], self.inputs[j + 1], dy, dx, flows)

    def _forget(self) -> None:
        """Drops what no pass or output needs any more: pass p's keys once pass p + 1 has every key within reach
        of them, a flow set once its passes are done, inputs, motion and final keys once their outputs are out."""
        reach = self.fusion.reach if self.fusion is not None else 0
        done_to = self.emitted // 2  # keys before this have every output out
        for p in range(self.passes):
            for j in [j for j in self.levels[p] if j + reach < self.made[p + 1]]:
                del self.levels[p][j]
        for key in [key for key in self.flows if self._flow_done(key, done_to)]:
            del self.flows[key]
        for s, j in [(s, j) for s, j in self.greys if self.made[s * self.every + 1] > j + reach]:
            del self.greys[s, j]  # every key within reach of j has been through the set's first pass
        for store in (self.inputs, self.motion, self.levels[self.passes]):
            for j in [j for j in store if j < done_to]:
                del store[j]

    def _flow_done(self, key: tuple, done_to: int) -> bool:
        s, j, i = key
        last_pass = min(self.passes, (s + 1) * self.every)  # the pass after the set's last
        if s == 0 and abs(i - j) == 1 and self.with_midpoints and min(i, j) >= done_to:
            return False  # the vote of pair min(i, j) still to come
        if last_pass < self.passes and (s + 1, j, i) not in self.flows and j >= done_to:
            return False  # the next set starts from it
        return self.made[last_pass] > j or j < done_to

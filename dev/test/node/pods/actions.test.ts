/** What the kubelet would do next with a pod's containers: a table of situations and decisions. */
import t from 'tap';
import { goDuration, podActions, restartDelayMs, type SlotView } from '../../../src/node/pods/actions.js';

const NOW = 1_000_000;
const init = (name: string, more: Partial<SlotView> = {}): SlotView => ({ name, kind: 'init', state: 'idle', everStarted: false, ...more });
const sidecar = (name: string, more: Partial<SlotView> = {}): SlotView => ({ name, kind: 'sidecar', state: 'idle', everStarted: false, ...more });
const app = (name: string, more: Partial<SlotView> = {}): SlotView => ({ name, kind: 'app', state: 'idle', everStarted: false, ...more });
const done = (code = 0): Partial<SlotView> => ({ state: 'exited', exitCode: code, everStarted: true });
const running: Partial<SlotView> = { state: 'running', everStarted: true };

interface Case {
  what: string;
  policy?: 'Always' | 'OnFailure' | 'Never';
  slots: SlotView[];
  start?: string[];
  stop?: string[];
  backingOff?: string[];
  initialized: boolean;
  terminal?: 'Succeeded' | 'Failed';
  wakeAt?: number;
}

const cases: Case[] = [
  { what: 'no init containers: every app container starts', slots: [app('a'), app('b')], start: ['a', 'b'], initialized: true },
  { what: 'the first init container starts alone', slots: [init('i1'), init('i2'), app('a')], start: ['i1'], initialized: false },
  { what: 'an init container running: nothing else', slots: [init('i1', { state: 'running' }), init('i2'), app('a')], start: [], initialized: false },
  { what: 'after the first completed, the second', slots: [init('i1', done()), init('i2'), app('a')], start: ['i2'], initialized: false },
  { what: 'all completed: the apps', slots: [init('i1', done()), init('i2', done()), app('a')], start: ['a'], initialized: true },
  { what: 'a failed init container restarts (Always)', slots: [init('i1', done(1)), app('a')], start: ['i1'], initialized: false },
  { what: 'a failed init container restarts (OnFailure)', policy: 'OnFailure', slots: [init('i1', done(1)), app('a')], start: ['i1'], initialized: false },
  { what: 'a failed init container fails the pod (Never)', policy: 'Never', slots: [init('i1', done(2)), app('a')], start: [], initialized: false, terminal: 'Failed' },
  {
    what: 'a failed init container in back-off waits',
    slots: [init('i1', { ...done(1), notBefore: NOW + 500 }), app('a')],
    start: [],
    backingOff: ['i1'],
    initialized: false,
    wakeAt: NOW + 500,
  },
  { what: 'a sidecar starts in its place', slots: [sidecar('s'), init('i1'), app('a')], start: ['s'], initialized: false },
  { what: 'a sidecar running but not started (startup probe) holds the next', slots: [sidecar('s', { state: 'running' }), init('i1'), app('a')], start: [], initialized: false },
  { what: 'a started sidecar lets the next init container go', slots: [sidecar('s', running), init('i1'), app('a')], start: ['i1'], initialized: false },
  { what: 'then the apps, the sidecar running on', slots: [sidecar('s', running), init('i1', done()), app('a')], start: ['a'], initialized: true },
  { what: 'an exited sidecar restarts, even under Never', policy: 'Never', slots: [sidecar('s', done(0)), app('a', running)], start: ['s'], initialized: true },
  {
    what: 'a sidecar that never started and is in back-off holds initialization',
    slots: [sidecar('s', { state: 'exited', exitCode: 1, everStarted: false, notBefore: NOW + 10 }), init('i1'), app('a')],
    start: [],
    backingOff: ['s'],
    initialized: false,
    wakeAt: NOW + 10,
  },
  { what: 'Always: an app that exited 0 restarts', slots: [app('a', done(0))], start: ['a'], initialized: true },
  { what: 'Always: in back-off it waits', slots: [app('a', { ...done(1), notBefore: NOW + 1 })], start: [], backingOff: ['a'], initialized: true, wakeAt: NOW + 1 },
  { what: 'Always: back-off over, it restarts', slots: [app('a', { ...done(1), notBefore: NOW })], start: ['a'], initialized: true },
  { what: 'OnFailure: a failed app restarts', policy: 'OnFailure', slots: [app('a', done(1)), app('b', running)], start: ['a'], initialized: true },
  { what: 'OnFailure: all succeeded: Succeeded', policy: 'OnFailure', slots: [app('a', done(0)), app('b', done(0))], start: [], initialized: true, terminal: 'Succeeded' },
  { what: 'OnFailure: one done, one running: not yet', policy: 'OnFailure', slots: [app('a', done(0)), app('b', running)], start: [], initialized: true },
  { what: 'Never: one failed, all done: Failed', policy: 'Never', slots: [app('a', done(0)), app('b', done(137))], start: [], initialized: true, terminal: 'Failed' },
  {
    what: 'terminal: running sidecars stop, last first; nothing restarts',
    policy: 'Never',
    slots: [sidecar('s1', running), sidecar('s2', running), sidecar('s3', done(1)), app('a', done(0))],
    start: [],
    stop: ['s2', 's1'],
    initialized: true,
    terminal: 'Succeeded',
  },
  { what: 'a container that can never start (notBefore Infinity) sets no wake-up', slots: [app('a', { notBefore: Infinity })], start: [], initialized: true },
];

t.test('podActions, table', (t) => {
  for (const c of cases) {
    const got = podActions(c.policy ?? 'Always', c.slots, NOW);
    t.strictSame(
      got,
      {
        start: c.start ?? [],
        stop: c.stop ?? [],
        backingOff: c.backingOff ?? [],
        initialized: c.initialized,
        ...(c.terminal === undefined ? {} : { terminal: c.terminal }),
        ...(c.wakeAt === undefined ? {} : { wakeAt: c.wakeAt }),
      },
      c.what,
    );
  }
  t.end();
});

t.test('restart back-off: none for the first restart, then doubling to the cap', (t) => {
  const settings = { initialMs: 10_000, maxMs: 300_000 };
  t.strictSame(
    [0, 1, 2, 3, 4, 5, 6, 7, 100].map((n) => restartDelayMs(n, settings)),
    [0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000],
  );
  t.end();
});

t.test('goDuration prints as Go does', (t) => {
  const cases: [number, string][] = [
    [250, '250ms'],
    [10_000, '10s'],
    [1_500, '1.5s'],
    [80_000, '1m20s'],
    [300_000, '5m0s'],
    [3_600_000, '1h0m0s'],
  ];
  for (const [ms, text] of cases) t.equal(goDuration(ms), text, text);
  t.end();
});

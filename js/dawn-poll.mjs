// How npm webgpu (dawn.node) notices finished GPU work, and how we keep it cheap.
//
// While any of its promises is pending (a mapAsync, onSubmittedWorkDone), dawn.node
// polls Dawn by rescheduling itself through the global setImmediate, creating a new
// native-backed function each tick: about 180,000 ticks a second whenever the event loop
// is idle. That garbage cost garbage-collection pauses of 8-15 ms every few hundred ms of
// a pipelined decode on the lent H100 (node --trace-gc), longer than the four steps of
// GPU work queued ahead, so the GPU ran dry (docs/PERF.md, thirteenth session).
//
// While the runtime awaits GPU work, its ticks are spaced: the setImmediate that
// reschedules one spins until the previous tick is TICK_MS old (the wait would spin on
// its ticks anyway, now with a few thousand ticks' garbage a second instead of 180,000).
// An urgent wait (a read the host needs for its next step) takes a tick every 0.05 ms.
// A patient one (reads of pipelined decode steps, awaited steps after their submission,
// with more steps queued behind them) takes one every 0.25 ms for its first 2 ms, then
// rests the CPU on a 1 ms timer. With the timer alone, the host noticed a pick up to
// 1-2 ms late, which added to its time a token when that was near the GPU's step
// (docs/PERF.md). dawn.node looks the global up on each tick, so the spacing applies at
// once; other code's setImmediate calls during a wait are paced alike.

const TICK_MS = { patient: 0.25, urgent: 0.05 };
const PATIENT_SPIN_MS = 2;
let patientWaits = 0, urgentWaits = 0, patientSince = 0, lastTick = 0, installed = false;
export const pollStats = { patient: 0, urgent: 0, timer: 0 }; // ticks of each kind (tests count them)

function install() {
    if (installed || typeof globalThis.setImmediate !== 'function') return;
    installed = true;
    const immediate = globalThis.setImmediate, clear = globalThis.clearImmediate;
    const Immediate = immediate(() => {}).constructor; // the class of what setImmediate returns
    globalThis.setImmediate = function setImmediate(fn, ...args) {
        if (patientWaits + urgentWaits > 0) {
            const kind = urgentWaits > 0 ? 'urgent' : 'patient';
            let t = performance.now();
            if (kind === 'patient' && t - patientSince > PATIENT_SPIN_MS) {
                pollStats.timer++;
                return setTimeout(fn, 1, ...args);
            }
            pollStats[kind]++;
            const next = lastTick + TICK_MS[kind];
            while (t < next) t = performance.now();
            lastTick = t;
        }
        return immediate(fn, ...args);
    };
    // a handle made during a long patient wait is a timer
    globalThis.clearImmediate = function clearImmediate(handle) {
        if (handle instanceof Immediate) clear(handle);
        else clearTimeout(handle);
    };
}

// RULLAMA_POLL=native leaves dawn.node's polling as it is (A/B runs).
const native = globalThis.process?.env?.RULLAMA_POLL === 'native';

// Await `promise` (GPU work) with dawn.node's polling paced for a patient or urgent wait.
export async function awaitGpu(promise, patient) {
    if (native) return promise;
    install();
    if (patient && patientWaits++ === 0) patientSince = performance.now();
    if (!patient) urgentWaits++;
    try {
        return await promise;
    } finally {
        if (patient) patientWaits--;
        else urgentWaits--;
    }
}

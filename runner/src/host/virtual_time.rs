//! Time for guests: clocks that run at wall-clock speed plus whatever the guest slept,
//! and a WASI `poll_oneoff` that never blocks. A sleep returns at once and moves the
//! guest's clocks forward by the time slept; a descriptor the guest waits on is
//! reported ready (stdin reads then get what is there, or end of file). So no WASI call
//! can hold a guest past its deadline: the runner's wall-clock budget holds whatever the
//! guest does (epoch interruption stops running wasm; host functions check the deadline).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use wasmtime::{Caller, Linker};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock};

use super::memory;
use super::state::HostState;

/// The guest's clocks: real time since the store began, plus the time it slept.
#[derive(Clone)]
pub struct VirtualClock {
    wall_at_start: Duration,
    started: Instant,
    slept_nanos: Arc<AtomicU64>,
}

impl VirtualClock {
    pub fn new() -> Self {
        VirtualClock {
            wall_at_start: SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default(),
            started: Instant::now(),
            slept_nanos: Arc::default(),
        }
    }

    fn monotonic_nanos(&self) -> u64 {
        let elapsed = u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        elapsed.saturating_add(self.slept_nanos.load(Ordering::Relaxed))
    }

    fn wall_nanos(&self) -> u64 {
        u64::try_from(self.wall_at_start.as_nanos())
            .unwrap_or(u64::MAX)
            .saturating_add(self.monotonic_nanos())
    }

    fn sleep(&self, nanos: u64) {
        self.slept_nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

impl HostMonotonicClock for VirtualClock {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        self.monotonic_nanos()
    }
}

impl HostWallClock for VirtualClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }

    fn now(&self) -> Duration {
        Duration::from_nanos(self.wall_nanos())
    }
}

// WASI preview1 `poll_oneoff` layout: a subscription is 48 bytes (userdata u64, tag u8
// at 8; clock: id u32 at 16, timeout u64 at 24, flags u16 at 40; fd: fd u32 at 16), an
// event 32 bytes (userdata u64, errno u16 at 8, type u8 at 10, nbytes u64 at 16).
const SUBSCRIPTION: usize = 48;
const EVENT: usize = 32;
const TAG_CLOCK: u8 = 0;
const TAG_FD_READ: u8 = 1;
const TAG_FD_WRITE: u8 = 2;
const ABSTIME: u16 = 1;
const CLOCK_REALTIME: u32 = 0;
const CLOCK_MONOTONIC: u32 = 1;
const ERRNO_SUCCESS: u16 = 0;
const ERRNO_BADF: u16 = 8;
const ERRNO_INVAL: u16 = 28;
/// More subscriptions than any guest needs: the rest is a bad call.
const MAX_SUBSCRIPTIONS: u32 = 1024;

/// Replaces wasmtime-wasi's `poll_oneoff` (which really sleeps) with one that never
/// blocks. Must be linked after the WASI functions.
pub(super) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    linker.func_wrap(
        "wasi_snapshot_preview1",
        "poll_oneoff",
        |mut caller: Caller<'_, HostState>, subs: i32, events: i32, count: i32, nevents: i32| {
            caller.data().check_deadline()?;
            let count = count as u32;
            if count == 0 || count > MAX_SUBSCRIPTIONS {
                return Ok(i32::from(ERRNO_INVAL));
            }
            let subs = memory::read(&mut caller, subs, (count as usize * SUBSCRIPTION) as i32)?;
            let out = poll(caller.data(), &subs);
            memory::write(&mut caller, events, &out.bytes)?;
            memory::write(&mut caller, nevents, &out.count.to_le_bytes())?;
            Ok(i32::from(ERRNO_SUCCESS))
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

struct Events {
    bytes: Vec<u8>,
    count: u32,
}

/// Descriptors are ready at once; without any, the earliest clock fires and the guest's
/// clocks move forward to it.
fn poll(state: &HostState, subs: &[u8]) -> Events {
    let u16_at = |s: &[u8], at: usize| u16::from_le_bytes([s[at], s[at + 1]]);
    let u32_at = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().expect("4 bytes"));
    let u64_at = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("8 bytes"));
    let subs: Vec<&[u8]> = subs.chunks_exact(SUBSCRIPTION).collect();
    let mut events = Events { bytes: Vec::new(), count: 0 };
    let mut push = |sub: &[u8], errno: u16, kind: u8, nbytes: u64| {
        let mut event = [0u8; EVENT];
        event[..8].copy_from_slice(&sub[..8]);
        event[8..10].copy_from_slice(&errno.to_le_bytes());
        event[10] = kind;
        event[16..24].copy_from_slice(&nbytes.to_le_bytes());
        events.bytes.extend_from_slice(&event);
        events.count += 1;
    };
    let descriptors: Vec<&&[u8]> = subs.iter().filter(|s| s[8] != TAG_CLOCK).collect();
    if !descriptors.is_empty() {
        for sub in descriptors {
            let fd = u32_at(sub, 16);
            let (errno, nbytes) = match (sub[8], fd) {
                (TAG_FD_READ, 0) => (ERRNO_SUCCESS, state.stdin.len() as u64),
                (TAG_FD_WRITE, 1 | 2) => (ERRNO_SUCCESS, 64 << 10),
                (TAG_FD_READ | TAG_FD_WRITE, _) => (ERRNO_BADF, 0),
                _ => (ERRNO_INVAL, 0),
            };
            push(sub, errno, sub[8], nbytes);
        }
        return events;
    }
    let clock = &state.clock;
    let remaining = |sub: &[u8]| -> Option<u64> {
        let (id, timeout) = (u32_at(sub, 16), u64_at(sub, 24));
        let now = match id {
            CLOCK_REALTIME => clock.wall_nanos(),
            CLOCK_MONOTONIC => clock.monotonic_nanos(),
            _ => return None,
        };
        Some(if u16_at(sub, 40) & ABSTIME != 0 { timeout.saturating_sub(now) } else { timeout })
    };
    let soonest = subs.iter().filter_map(|s| remaining(s)).min().unwrap_or(0);
    clock.sleep(soonest);
    for sub in &subs {
        // After the sleep: a relative timer of at most `soonest` has fired, and an
        // absolute one whose time has come.
        let due = match remaining(sub) {
            None => {
                push(sub, ERRNO_INVAL, TAG_CLOCK, 0);
                continue;
            }
            Some(left) if u16_at(sub, 40) & ABSTIME != 0 => left == 0,
            Some(timeout) => timeout <= soonest,
        };
        if due {
            push(sub, ERRNO_SUCCESS, TAG_CLOCK, 0);
        }
    }
    events
}

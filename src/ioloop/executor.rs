//! The executor: tasks, their wakers, the ready queue and [`JoinHandle`].
//!
//! A *task* is a boxed future living in a slot of a slab (a `Vec` with a free list), named by
//! a key that packs the slot index and a generation number. The generation makes a stale
//! waker (one that outlived its task, whose slot was then reused) harmless: its key no
//! longer matches and it is ignored.
//!
//! A *waker* is an `Arc<TaskWaker>` turned into a [`Waker`] through std's [`Wake`] trait (no
//! unsafe code needed). Waking sets the task's `scheduled` flag; only the wake that flips it
//! from false to true enqueues the task, so a task is in the queue at most once. The
//! flag is cleared right before the task is polled, so a wake that happens *during* the
//! poll queues it again and nothing is lost.
//!
//! Where does the key go? If the waking thread is running the task's loop (the common case:
//! a socket event, a timer, another task), straight into the loop's ready queue, a plain
//! `VecDeque` behind a `RefCell`: no lock, no atomic beyond the flag. Any other thread pushes
//! to the loop's mutex-protected remote queue and writes the loop's eventfd.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use super::timer::TimerKey;
use super::{LoopShared, LoopState, RUNNING};

/// Names a task: slot index in the low 32 bits, generation in the high 32.
pub(crate) type TaskKey = u64;

/// The key of `run_sync`'s own future, which lives on the caller's stack, not in the slab.
pub(crate) const MAIN_KEY: TaskKey = u64::MAX;

/// One unit of work in the ready queue.
pub(crate) enum Job {
    /// Poll this task.
    Task(TaskKey),
    /// Call this callback (`add_callback`).
    Call(Box<dyn FnOnce()>),
    /// Run this timer's callback, unless it was cancelled meanwhile.
    Timer(TimerKey),
}

/// A job sent from another thread.
pub(crate) enum RemoteJob {
    Task(TaskKey),
    Call(Box<dyn FnOnce() + Send>),
}

/// The waker of one task. Shared with every clone of its [`Waker`].
pub(crate) struct TaskWaker {
    key: TaskKey,
    scheduled: AtomicBool,
    shared: Arc<LoopShared>,
}

impl TaskWaker {
    pub(crate) fn new(shared: Arc<LoopShared>, key: TaskKey) -> TaskWaker {
        TaskWaker {
            key,
            scheduled: AtomicBool::new(false),
            shared,
        }
    }

    /// Called right before a poll: wakes from now on queue the task again.
    pub(crate) fn clear_scheduled(&self) {
        self.scheduled.store(false, Ordering::Release);
    }
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.scheduled.swap(true, Ordering::AcqRel) {
            return; // already queued
        }
        let key = self.key;
        let id = self.shared.id;
        // Fast path: this thread runs the task's loop.
        let local = RUNNING
            .try_with(|r| match r.try_borrow() {
                Ok(r) => match r.as_ref() {
                    // `run_sync`'s own future is polled by the loop after every turn in
                    // which this flag was set: no queue needed, no extra turn.
                    Some(inner) if inner.id == id && key == MAIN_KEY => {
                        inner.main_woken.set(true);
                        true
                    }
                    Some(inner) if inner.id == id => match inner.exec.ready.try_borrow_mut() {
                        Ok(mut q) => {
                            q.push_back(Job::Task(key));
                            true
                        }
                        Err(_) => false,
                    },
                    _ => false,
                },
                Err(_) => false,
            })
            .unwrap_or(false);
        if !local {
            self.shared.push_remote(RemoteJob::Task(key));
        }
    }
}

/// Why a task ended without an output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinError {
    /// [`JoinHandle::cancel`] was called, or the loop was closed.
    Cancelled,
    /// The task panicked; the panic message.
    Panicked(String),
}

impl JoinError {
    /// Was the task cancelled?
    pub fn is_cancelled(&self) -> bool {
        matches!(self, JoinError::Cancelled)
    }

    /// Did the task panic?
    pub fn is_panic(&self) -> bool {
        matches!(self, JoinError::Panicked(_))
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Cancelled => f.write_str("task was cancelled"),
            JoinError::Panicked(m) => write!(f, "task panicked: {m}"),
        }
    }
}

impl std::error::Error for JoinError {}

/// Where a task's result waits for its [`JoinHandle`].
struct JoinShared<T> {
    state: RefCell<JoinState<T>>,
}

struct JoinState<T> {
    result: Option<Result<T, JoinError>>,
    finished: bool,
    waker: Option<Waker>,
}

impl<T> JoinShared<T> {
    fn finish(&self, r: Result<T, JoinError>) {
        let waker = {
            let mut s = self.state.borrow_mut();
            if s.finished {
                return;
            }
            s.finished = true;
            s.result = Some(r);
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// Type-erased "the task ended early" notification.
trait Abort {
    fn abort(&self, e: JoinError);
}

impl<T> Abort for JoinShared<T> {
    fn abort(&self, e: JoinError) {
        self.finish(Err(e));
    }
}

/// A spawned task.
pub(crate) struct Task {
    fut: Pin<Box<dyn Future<Output = ()>>>,
    waker: Waker,
    flag: Arc<TaskWaker>,
    abort: Rc<dyn Abort>,
}

enum TaskSlot {
    Vacant {
        next_free: u32,
    },
    Idle(Task),
    /// Taken out for polling; `cancel` is set if it was cancelled during its own poll.
    Running {
        cancel: bool,
    },
}

struct Entry {
    generation: u32,
    slot: TaskSlot,
}

const NO_FREE: u32 = u32::MAX;

/// The task slab.
struct Tasks {
    entries: Vec<Entry>,
    free: u32,
    len: usize,
}

impl Tasks {
    fn key(index: u32, generation: u32) -> TaskKey {
        (u64::from(generation) << 32) | u64::from(index)
    }

    fn split(key: TaskKey) -> (usize, u32) {
        ((key & 0xffff_ffff) as usize, (key >> 32) as u32)
    }

    /// Reserve a slot (marked Running until `fill`) and return its key.
    fn reserve(&mut self) -> TaskKey {
        self.len += 1;
        if self.free != NO_FREE {
            let index = self.free;
            let e = &mut self.entries[index as usize];
            if let TaskSlot::Vacant { next_free } = e.slot {
                self.free = next_free;
            }
            e.slot = TaskSlot::Running { cancel: false };
            Tasks::key(index, e.generation)
        } else {
            let index = self.entries.len() as u32;
            assert!(index != NO_FREE, "too many tasks");
            self.entries.push(Entry {
                generation: 0,
                slot: TaskSlot::Running { cancel: false },
            });
            Tasks::key(index, 0)
        }
    }

    fn entry(&mut self, key: TaskKey) -> Option<&mut Entry> {
        let (index, generation) = Tasks::split(key);
        self.entries
            .get_mut(index)
            .filter(|e| e.generation == generation)
    }

    /// Take an idle task out for polling (the slot becomes Running).
    fn take_for_poll(&mut self, key: TaskKey) -> Option<Task> {
        let e = self.entry(key)?;
        match std::mem::replace(&mut e.slot, TaskSlot::Running { cancel: false }) {
            TaskSlot::Idle(t) => Some(t),
            other => {
                e.slot = other;
                None
            }
        }
    }

    /// Free a slot; returns the task if it was idle in it.
    fn remove(&mut self, key: TaskKey) -> Option<TaskSlot> {
        let (index, _) = Tasks::split(key);
        let free = self.free;
        let e = self.entry(key)?;
        if matches!(e.slot, TaskSlot::Vacant { .. }) {
            return None;
        }
        let old = std::mem::replace(&mut e.slot, TaskSlot::Vacant { next_free: free });
        e.generation = e.generation.wrapping_add(1);
        self.free = index as u32;
        self.len -= 1;
        Some(old)
    }
}

/// The most jobs one turn runs. A batch longer than this (ten thousand fetches started at
/// once) is run over several turns, with a poll and the due timers between them: a timer is
/// then late by one budget's worth of work, not by the whole batch.
pub(crate) const TURN_BUDGET: usize = 128;

/// The ready queue and the tasks of one loop.
pub(crate) struct Executor {
    pub(crate) ready: RefCell<VecDeque<Job>>,
    /// The last batch was cut short by [`TURN_BUDGET`]: what it left waits at the front of
    /// the queue, and timers that come due go before it (see `timer::fire_due`).
    pub(crate) cut_short: Cell<bool>,
    tasks: RefCell<Tasks>,
}

impl Executor {
    pub(crate) fn new() -> Executor {
        Executor {
            ready: RefCell::new(VecDeque::with_capacity(64)),
            cut_short: Cell::new(false),
            tasks: RefCell::new(Tasks {
                entries: Vec::new(),
                free: NO_FREE,
                len: 0,
            }),
        }
    }

    /// Number of live tasks (spawned, not finished).
    pub(crate) fn task_count(&self) -> usize {
        self.tasks.borrow().len
    }

    /// Remove every task (for `close`).
    pub(crate) fn take_all_tasks(&self) -> Vec<Task> {
        let mut tasks = self.tasks.borrow_mut();
        let mut out = Vec::new();
        let keys: Vec<TaskKey> = tasks
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| !matches!(e.slot, TaskSlot::Vacant { .. }))
            .map(|(i, e)| Tasks::key(i as u32, e.generation))
            .collect();
        for key in keys {
            if let Some(TaskSlot::Idle(t)) = tasks.remove(key) {
                out.push(t);
            }
        }
        out
    }
}

/// Drop tasks (outside any borrow) and tell their handles they were cancelled.
pub(crate) fn abort_all(tasks: Vec<Task>) {
    for t in tasks {
        let abort = t.abort.clone();
        drop(t);
        abort.abort(JoinError::Cancelled);
    }
}

/// Put a new task on `inner` and queue its first poll.
pub(crate) fn spawn_on<F: Future + 'static>(
    inner: &Rc<LoopState>,
    fut: F,
) -> JoinHandle<F::Output> {
    let join = Rc::new(JoinShared {
        state: RefCell::new(JoinState {
            result: None,
            finished: false,
            waker: None,
        }),
    });
    if inner.closed.get() {
        drop(fut);
        join.finish(Err(JoinError::Cancelled));
        return JoinHandle {
            join,
            key: MAIN_KEY,
            lp: Weak::new(),
        };
    }
    let key = inner.exec.tasks.borrow_mut().reserve();
    let flag = Arc::new(TaskWaker::new(inner.shared.clone(), key));
    flag.scheduled.store(true, Ordering::Relaxed);
    let done = join.clone();
    let task = Task {
        fut: Box::pin(async move {
            let out = fut.await;
            done.finish(Ok(out));
        }),
        waker: Waker::from(flag.clone()),
        flag,
        abort: join.clone(),
    };
    if let Some(e) = inner.exec.tasks.borrow_mut().entry(key) {
        e.slot = TaskSlot::Idle(task);
    }
    inner.push_ready(Job::Task(key));
    JoinHandle {
        join,
        key,
        lp: Rc::downgrade(inner),
    }
}

/// Best-effort text of a panic payload.
pub(crate) fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_string()
    }
}

/// Call a callback, reporting a panic the way Tornado logs an exception (L-13).
pub(crate) fn call_guarded(what: &str, f: Box<dyn FnOnce()>) {
    if let Err(p) = catch_unwind(AssertUnwindSafe(f)) {
        eprintln!("Exception in callback {what}: {}", panic_message(&*p));
    }
}

/// Step 5 of a turn: run the jobs that are in the ready queue now, and only those — at most
/// [`TURN_BUDGET`] of them; the rest stay first in line for the next turn.
pub(crate) fn run_ready(inner: &Rc<LoopState>) {
    let queued = inner.exec.ready.borrow().len();
    let n = queued.min(TURN_BUDGET);
    inner.exec.cut_short.set(queued > n);
    for _ in 0..n {
        let job = inner.exec.ready.borrow_mut().pop_front();
        match job {
            Some(Job::Task(key)) => run_task(inner, key),
            Some(Job::Call(f)) => call_guarded("(add_callback)", f),
            Some(Job::Timer(key)) => super::timer::run_timer(inner, key),
            None => break,
        }
    }
}

fn run_task(inner: &Rc<LoopState>, key: TaskKey) {
    if key == MAIN_KEY {
        inner.main_woken.set(true);
        return;
    }
    let Some(mut task) = inner.exec.tasks.borrow_mut().take_for_poll(key) else {
        return; // finished or cancelled since it was woken
    };
    task.flag.clear_scheduled();
    let mut cx = Context::from_waker(&task.waker);
    let result = catch_unwind(AssertUnwindSafe(|| task.fut.as_mut().poll(&mut cx)));
    match result {
        Ok(Poll::Pending) => {
            let mut tasks = inner.exec.tasks.borrow_mut();
            if let Some(e) = tasks.entry(key) {
                if let TaskSlot::Running { cancel: false } = e.slot {
                    e.slot = TaskSlot::Idle(task);
                    return;
                }
                // Cancelled during its own poll: free the slot and drop it below.
                tasks.remove(key);
            }
            drop(tasks);
            // Keep the scheduled flag set so stray wakes do not queue a dead key.
            task.flag.scheduled.store(true, Ordering::Release);
            drop(task);
        }
        Ok(Poll::Ready(())) => {
            inner.exec.tasks.borrow_mut().remove(key);
            task.flag.scheduled.store(true, Ordering::Release);
            drop(task);
        }
        Err(p) => {
            let msg = panic_message(&*p);
            eprintln!("Exception in callback (task {}): {msg}", key & 0xffff_ffff);
            inner.exec.tasks.borrow_mut().remove(key);
            task.flag.scheduled.store(true, Ordering::Release);
            let abort = task.abort.clone();
            // Dropping the future may itself panic; contain that too.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(task)));
            abort.abort(JoinError::Panicked(msg));
        }
    }
}

/// A handle to a spawned task: a future of `Result<T, JoinError>`.
///
/// Dropping it detaches the task (it keeps running). [`cancel`](JoinHandle::cancel) drops
/// the task's future, which closes whatever it owned (sockets included).
pub struct JoinHandle<T> {
    join: Rc<JoinShared<T>>,
    key: TaskKey,
    lp: Weak<LoopState>,
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}

impl<T> JoinHandle<T> {
    /// Has the task finished (completed, panicked or been cancelled)?
    pub fn is_finished(&self) -> bool {
        self.join.state.borrow().finished
    }

    /// Cancel the task: its future is dropped now (or, if the task is cancelling itself from
    /// inside its own poll, right after that poll), and awaiting this handle gives
    /// [`JoinError::Cancelled`]. A no-op if the task already finished.
    pub fn cancel(&self) {
        if self.is_finished() {
            return;
        }
        let Some(inner) = self.lp.upgrade() else {
            self.join.finish(Err(JoinError::Cancelled));
            return;
        };
        let removed = {
            let mut tasks = inner.exec.tasks.borrow_mut();
            match tasks.entry(self.key) {
                Some(e) => match &mut e.slot {
                    TaskSlot::Running { cancel } => {
                        *cancel = true;
                        None
                    }
                    TaskSlot::Idle(_) => tasks.remove(self.key),
                    TaskSlot::Vacant { .. } => None,
                },
                None => None,
            }
        };
        if let Some(TaskSlot::Idle(task)) = removed {
            task.flag.scheduled.store(true, Ordering::Release);
            drop(task);
        }
        self.join.finish(Err(JoinError::Cancelled));
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut s = self.join.state.borrow_mut();
        if let Some(r) = s.result.take() {
            return Poll::Ready(r);
        }
        if s.finished {
            panic!("JoinHandle polled after it returned its result");
        }
        match &s.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => s.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    //! The turn budget, counted in jobs: turns are run one at a time and what each one ran is
    //! read from a log.

    use super::*;
    use crate::ioloop::IoLoop;
    use crate::ioloop::run::RunGuard;

    fn logger() -> (Rc<RefCell<Vec<String>>>, impl Fn(String) + Clone) {
        let log = Rc::new(RefCell::new(Vec::new()));
        let l = log.clone();
        (log, move |s| l.borrow_mut().push(s))
    }

    #[test]
    fn a_turn_runs_at_most_its_budget_and_keeps_fifo_order() {
        let lp = IoLoop::new();
        let (log, push) = logger();
        let n = 2 * TURN_BUDGET + 10;
        for i in 0..n {
            let push = push.clone();
            drop(lp.spawn(async move { push(format!("task {i}")) }));
        }
        let inner = lp.state();
        let _running = RunGuard::enter(inner).unwrap();
        inner.turn();
        assert_eq!(log.borrow().len(), TURN_BUDGET);
        assert!(inner.exec.cut_short.get());
        inner.turn();
        assert_eq!(log.borrow().len(), 2 * TURN_BUDGET);
        inner.turn();
        assert_eq!(log.borrow().len(), n);
        assert!(!inner.exec.cut_short.get());
        let want: Vec<String> = (0..n).map(|i| format!("task {i}")).collect();
        assert_eq!(*log.borrow(), want);
    }

    #[test]
    fn work_added_during_a_cut_short_batch_waits_behind_what_it_left() {
        let lp = IoLoop::new();
        let (log, push) = logger();
        let n = TURN_BUDGET + 5;
        for i in 0..n {
            let (push, lp2) = (push.clone(), lp.clone());
            drop(lp.spawn(async move {
                push(format!("task {i}"));
                if i == 0 {
                    let push = push.clone();
                    lp2.add_callback(move || push("callback".into()));
                }
            }));
        }
        let inner = lp.state();
        let _running = RunGuard::enter(inner).unwrap();
        inner.turn();
        assert_eq!(log.borrow().len(), TURN_BUDGET);
        inner.turn();
        let log = log.borrow();
        assert_eq!(log.len(), n + 1);
        assert_eq!(log[n], "callback", "after the leftover of the batch");
    }

    #[test]
    fn a_due_timer_runs_before_the_leftover_of_a_cut_short_batch() {
        let lp = IoLoop::new();
        let (log, push) = logger();
        let n = 5 * TURN_BUDGET;
        for i in 0..n {
            let (push, lp2) = (push.clone(), lp.clone());
            drop(lp.spawn(async move {
                if i == 0 {
                    let at = std::time::Instant::now() + std::time::Duration::from_millis(1);
                    let timer_push = push.clone();
                    lp2.call_at(at, move || timer_push("timer".into()));
                    // A sleeping task is woken by the same pass over the due timers.
                    crate::ioloop::sleep_until(at).await;
                    push("task 0 after its sleep".into());
                    return;
                }
                push(format!("task {i}"));
            }));
        }
        let inner = lp.state();
        let _running = RunGuard::enter(inner).unwrap();
        inner.turn();
        assert_eq!(log.borrow().len(), TURN_BUDGET - 1); // task 0 went to sleep
        std::thread::sleep(std::time::Duration::from_millis(5)); // both timers are due now
        inner.turn();
        {
            let log = log.borrow();
            // Both timers' work comes first in the second turn, ahead of 4 budgets' backlog.
            assert_eq!(log[TURN_BUDGET - 1], "timer");
            assert_eq!(log[TURN_BUDGET], "task 0 after its sleep");
            assert_eq!(log[TURN_BUDGET + 1], format!("task {TURN_BUDGET}"));
            assert_eq!(log.len(), 2 * TURN_BUDGET - 1);
        }
        while log.borrow().len() < n + 1 {
            inner.turn();
        }
        assert!(!inner.exec.cut_short.get());
    }
}

//! Where jobs run: in a Web Worker in the browser, inline everywhere else
//! (and in the browser if the worker cannot start). Both drive the same
//! `linetwin_jobs::Runner`, so the native tests run the browser's code path.

use bevy::prelude::*;
use linetwin_jobs::{DiagnoseJob, JobId, JobSpec, Reply, Request, Runner};

/// A waveform block the socket task sent straight to the worker as it
/// arrived (not once per frame): what the app needs to track it, without
/// its samples.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutedBlock {
    pub id: JobId,
    pub job: DiagnoseJob,
    pub samples: usize,
}

/// Ids of routed jobs start here, apart from the ones the app submits.
pub const ROUTED_IDS: JobId = 1 << 48;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecutorKind {
    /// On the render thread, finishing each job before `poll` returns.
    Inline,
    /// In a Web Worker: results come back in later frames.
    Worker,
}

#[derive(Resource)]
pub struct Executor {
    kind: ExecutorKind,
    runner: Runner,
    /// Replies the inline runner gave when a job was handed to it.
    answered: Vec<(Reply, Vec<f32>)>,
    /// Replies to what-if jobs, set aside for their plugin.
    what_if: Vec<(Reply, Vec<f32>)>,
    /// The what-if job in progress, answered as failed if the worker dies.
    running_what_if: Option<JobId>,
    /// The worker died while `take_what_if_replies` polled: the next `poll`
    /// reports it, so diagnosis learns it too.
    lost_worker: bool,
    /// Why the worker is not used, if it was wanted.
    pub worker_problem: Option<String>,
}

impl Default for Executor {
    fn default() -> Self {
        Executor::inline()
    }
}

impl Executor {
    pub fn inline() -> Self {
        Executor {
            kind: ExecutorKind::Inline,
            runner: Runner::new(),
            answered: Vec::new(),
            what_if: Vec::new(),
            running_what_if: None,
            lost_worker: false,
            worker_problem: None,
        }
    }

    /// A worker where there is one, inline otherwise.
    pub fn for_this_platform() -> Self {
        #[cfg(target_arch = "wasm32")]
        {
            match web::start() {
                Ok(()) => Executor {
                    kind: ExecutorKind::Worker,
                    ..Executor::inline()
                },
                Err(problem) => Executor {
                    worker_problem: Some(problem),
                    ..Executor::inline()
                },
            }
        }
        #[cfg(not(target_arch = "wasm32"))]
        Executor::inline()
    }

    /// Lets the socket task send this line's blocks straight to the worker
    /// (`None` stops it). Without a worker, blocks go through the app.
    pub fn route_blocks_of(&self, line: Option<std::sync::Arc<linetwin_core::line::Line>>) {
        #[cfg(target_arch = "wasm32")]
        if self.kind == ExecutorKind::Worker {
            web::route_for(line);
        }
        #[cfg(not(target_arch = "wasm32"))]
        let _ = line;
    }

    pub fn label(&self) -> &'static str {
        match self.kind {
            ExecutorKind::Inline => "inline",
            ExecutorKind::Worker => "worker",
        }
    }

    /// How many jobs may be outstanding at once. The runner keeps only the
    /// newest waiting block of each sensor, so this only bounds a burst;
    /// it must not tie diagnosis to the frame rate.
    pub fn capacity(&self) -> usize {
        match self.kind {
            ExecutorKind::Inline => usize::MAX,
            ExecutorKind::Worker => 1024,
        }
    }

    pub fn submit(&mut self, id: JobId, spec: JobSpec, payload: Vec<f32>) {
        if matches!(spec, JobSpec::WhatIf(_)) {
            self.running_what_if = Some(id);
        }
        let request = Request::Submit { id, spec };
        match self.kind {
            ExecutorKind::Inline => {
                let replies = self.runner.handle(request, payload);
                self.answered
                    .extend(replies.into_iter().map(|r| (r, Vec::new())));
            }
            ExecutorKind::Worker => {
                #[cfg(target_arch = "wasm32")]
                web::send(&request, &payload);
            }
        }
    }

    pub fn cancel(&mut self, id: JobId) {
        let request = Request::Cancel { id };
        match self.kind {
            ExecutorKind::Inline => {
                let replies = self.runner.handle(request, Vec::new());
                self.answered
                    .extend(replies.into_iter().map(|r| (r, Vec::new())));
            }
            ExecutorKind::Worker => {
                #[cfg(target_arch = "wasm32")]
                web::send(&request, &[]);
            }
        }
    }

    /// Replies that have arrived (inline, every submitted job is run now),
    /// and whether the worker died in the meantime: then the jobs it held
    /// are lost and later ones run inline.
    pub fn poll(&mut self) -> (Vec<(Reply, Vec<f32>)>, bool) {
        let (replies, died) = self.poll_all();
        let died = died || std::mem::take(&mut self.lost_worker);
        let (what_if, others): (Vec<_>, Vec<_>) = replies.into_iter().partition(|(reply, _)| {
            reply
                .id()
                .is_some_and(|id| id >= crate::what_if::WHAT_IF_IDS)
        });
        self.what_if.extend(what_if);
        if died {
            // The job the worker held is lost with it.
            self.what_if.extend(self.running_what_if.take().map(|id| {
                (
                    Reply::Failed {
                        id,
                        reason: "the worker stopped; run the what-if again".into(),
                    },
                    Vec::new(),
                )
            }));
        }
        (others, died)
    }

    /// Replies to what-if jobs since the last call. Polls too, so a
    /// what-if completes even when diagnosis is switched off; other
    /// replies wait for the next `poll`.
    pub fn take_what_if_replies(&mut self) -> Vec<(Reply, Vec<f32>)> {
        let (others, died) = self.poll();
        self.answered.extend(others);
        if died {
            self.lost_worker = true;
        }
        let what_if = std::mem::take(&mut self.what_if);
        if what_if.iter().any(|(reply, _)| {
            reply.id() == self.running_what_if
                && matches!(
                    reply,
                    Reply::Done { .. } | Reply::Failed { .. } | Reply::Cancelled { .. }
                )
        }) {
            self.running_what_if = None;
        }
        what_if
    }

    fn poll_all(&mut self) -> (Vec<(Reply, Vec<f32>)>, bool) {
        match self.kind {
            ExecutorKind::Inline => {
                let mut replies = std::mem::take(&mut self.answered);
                while let Some(reply) = self.runner.step() {
                    replies.push(reply);
                }
                (replies, false)
            }
            ExecutorKind::Worker => {
                #[cfg(target_arch = "wasm32")]
                {
                    let (mut replies, failure) = web::take_replies();
                    replies.splice(0..0, std::mem::take(&mut self.answered));
                    let died = failure.is_some();
                    if let Some(problem) = failure {
                        self.kind = ExecutorKind::Inline;
                        self.worker_problem = Some(problem);
                        web::route_for(None);
                    }
                    (replies, died)
                }
                #[cfg(not(target_arch = "wasm32"))]
                (Vec::new(), false)
            }
        }
    }
}

#[cfg(target_arch = "wasm32")]
pub(crate) mod web {
    use std::cell::RefCell;
    use std::collections::VecDeque;

    use linetwin_jobs::message::{decode, encode};
    use linetwin_jobs::{Reply, Request};
    use linetwin_worker::envelope;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;
    use web_sys::{MessageEvent, Worker, WorkerOptions, WorkerType};

    /// Trunk emits the worker without a content hash (see web/index.html).
    const WORKER_URL: &str = "./linetwin-worker_loader.js";

    #[derive(Default)]
    struct Link {
        worker: Option<Worker>,
        ready: bool,
        /// Sent before the worker said it was ready.
        backlog: Vec<(String, Vec<f32>)>,
        replies: VecDeque<(Reply, Vec<f32>)>,
        failure: Option<String>,
    }

    thread_local! {
        static LINK: RefCell<Link> = RefCell::new(Link::default());
    }

    pub(super) fn start() -> Result<(), String> {
        let options = WorkerOptions::new();
        options.set_type(WorkerType::Module);
        let worker = Worker::new_with_options(WORKER_URL, &options)
            .map_err(|e| format!("cannot start the diagnosis worker: {e:?}"))?;
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|event: MessageEvent| {
            let (header, payload) = envelope::unpack(&event.data());
            LINK.with(|link| {
                let mut link = link.borrow_mut();
                match decode::<Reply>(&header) {
                    Ok(Reply::Ready) => {
                        link.ready = true;
                        let backlog = std::mem::take(&mut link.backlog);
                        if let Some(worker) = &link.worker {
                            for (header, payload) in backlog {
                                post(worker, &header, &payload);
                            }
                        }
                    }
                    Ok(reply) => link.replies.push_back((reply, payload)),
                    Err(error) => {
                        bevy::log::warn!("unreadable reply from the worker: {error}");
                    }
                }
            });
        });
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(|event: web_sys::Event| {
            let detail = event
                .dyn_ref::<web_sys::ErrorEvent>()
                .map_or_else(|| "it failed to load".to_owned(), |e| e.message());
            LINK.with(|link| {
                link.borrow_mut().failure = Some(format!("diagnosis worker stopped: {detail}"))
            });
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        // The handlers live as long as the page.
        on_message.forget();
        on_error.forget();
        LINK.with(|link| link.borrow_mut().worker = Some(worker));
        Ok(())
    }

    fn post(worker: &Worker, header: &str, payload: &[f32]) {
        let (message, transfer) = envelope::pack(header, payload);
        let _ = worker.post_message_with_transfer(&message, &transfer);
    }

    /// Requests held for a worker that has not said it is ready; past this
    /// (some seconds of the stream) it is taken as failed to start, so
    /// diagnosis carries on inline instead of waiting for ever.
    const MAX_BACKLOG: usize = 256;

    // The line the socket task routes blocks for (`None`: it routes
    // nothing), and the ids it gives them.
    thread_local! {
        static ROUTE: RefCell<Option<std::sync::Arc<linetwin_core::line::Line>>> = const { RefCell::new(None) };
        static NEXT_ROUTED: std::cell::Cell<u64> = const { std::cell::Cell::new(super::ROUTED_IDS) };
    }

    pub(super) fn route_for(line: Option<std::sync::Arc<linetwin_core::line::Line>>) {
        ROUTE.with(|r| *r.borrow_mut() = line);
    }

    /// Sends a binary frame straight to the worker when it is a block the
    /// worker can diagnose; `None` leaves it to the app (bad frames, other
    /// sensors, blocks that cannot be judged, no worker).
    pub(crate) fn route(frame: &[u8]) -> Option<super::RoutedBlock> {
        let alive = LINK.with(|link| {
            let link = link.borrow();
            link.worker.is_some() && link.failure.is_none()
        });
        if !alive {
            return None;
        }
        let job = ROUTE.with(|route| {
            let route = route.borrow();
            let line = route.as_ref()?;
            let block = linetwin_core::protocol::WaveformBlock::decode(frame).ok()?;
            let (asset, sensor) = line.sensor(&block.sensor)?;
            if sensor.kind != linetwin_core::line::SensorKind::Vibration {
                return None;
            }
            let job = linetwin_jobs::DiagnoseJob::for_block(&block, asset, sensor).ok()?;
            Some((job, block.samples))
        })?;
        let (job, samples) = job;
        let id = NEXT_ROUTED.with(|next| {
            let id = next.get();
            next.set(id + 1);
            id
        });
        send(
            &Request::Submit {
                id,
                spec: linetwin_jobs::JobSpec::Diagnose(job.clone()),
            },
            &samples,
        );
        Some(super::RoutedBlock {
            id,
            job,
            samples: samples.len(),
        })
    }

    pub(super) fn send(request: &Request, payload: &[f32]) {
        let header = encode(request);
        LINK.with(|link| {
            let mut link = link.borrow_mut();
            match (&link.worker, link.ready) {
                (Some(worker), true) => post(worker, &header, payload),
                _ if link.backlog.len() >= MAX_BACKLOG => {
                    link.backlog.clear();
                    link.failure
                        .get_or_insert_with(|| "the diagnosis worker did not start".to_owned());
                }
                _ => link.backlog.push((header, payload.to_vec())),
            }
        });
    }

    pub(super) fn take_replies() -> (Vec<(Reply, Vec<f32>)>, Option<String>) {
        LINK.with(|link| {
            let mut link = link.borrow_mut();
            let replies = link.replies.drain(..).collect();
            let failure = link.failure.take();
            if failure.is_some()
                && let Some(worker) = link.worker.take()
            {
                worker.terminate();
            }
            (replies, failure)
        })
    }
}

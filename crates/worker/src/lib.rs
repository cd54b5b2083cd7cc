//! The viewer's Web Worker: a thin shell around [`linetwin_jobs::Runner`].
//!
//! Messages are `{ header: string, payload: Float32Array }`; the payload's
//! buffer is transferred both ways. Between job slices the worker yields to
//! its event loop (a zero timeout), so a cancel or a newer job is heard
//! while a long job runs. Trunk builds it as a second, unhashed target
//! (`linetwin-worker_loader.js`), see `web/index.html`.

/// The message envelope both sides of the worker use.
#[cfg(target_arch = "wasm32")]
pub mod envelope {
    use js_sys::{Array, Float32Array, Object, Reflect};
    use wasm_bindgen::{JsCast, JsValue};

    /// `{ header, payload }` and the list of buffers to transfer with it.
    /// The payload is copied into a buffer of its own: a view of wasm
    /// memory must never be transferred.
    pub fn pack(header: &str, payload: &[f32]) -> (JsValue, JsValue) {
        let message = Object::new();
        let data = Float32Array::new_with_length(payload.len() as u32);
        data.copy_from(payload);
        let _ = Reflect::set(&message, &"header".into(), &header.into());
        let _ = Reflect::set(&message, &"payload".into(), &data);
        (message.into(), Array::of1(&data.buffer()).into())
    }

    /// The header and payload of a message; missing parts are empty.
    pub fn unpack(data: &JsValue) -> (String, Vec<f32>) {
        let header = Reflect::get(data, &"header".into())
            .ok()
            .and_then(|h| h.as_string())
            .unwrap_or_default();
        let payload = Reflect::get(data, &"payload".into())
            .ok()
            .and_then(|p| p.dyn_into::<Float32Array>().ok())
            .map(|p| p.to_vec())
            .unwrap_or_default();
        (header, payload)
    }
}

#[cfg(all(target_arch = "wasm32", feature = "entry"))]
mod web {
    use std::cell::RefCell;
    use std::rc::Rc;

    use linetwin_jobs::message::{decode, encode};
    use linetwin_jobs::{Reply, Request, Runner};
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;
    use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

    struct Worker {
        scope: DedicatedWorkerGlobalScope,
        runner: Runner,
        pump_scheduled: bool,
    }

    fn post(scope: &DedicatedWorkerGlobalScope, reply: &Reply, payload: &[f32]) {
        let (message, transfer) = super::envelope::pack(&encode(reply), payload);
        let _ = scope.post_message_with_transfer(&message, &transfer);
    }

    fn schedule(worker: &Rc<RefCell<Worker>>) {
        let mut state = worker.borrow_mut();
        if state.pump_scheduled || state.runner.is_idle() {
            return;
        }
        state.pump_scheduled = true;
        let again = Rc::clone(worker);
        let pump = Closure::once_into_js(move || pump(&again));
        let _ = state
            .scope
            .set_timeout_with_callback_and_timeout_and_arguments_0(pump.unchecked_ref(), 0);
    }

    /// One slice, then back to the event loop.
    fn pump(worker: &Rc<RefCell<Worker>>) {
        {
            let mut state = worker.borrow_mut();
            state.pump_scheduled = false;
            let clock = state.scope.performance();
            let started = clock.as_ref().map(|p| p.now());
            if let Some((mut reply, payload)) = state.runner.step() {
                if let (Reply::Done { elapsed_ms, .. }, Some(started), Some(clock)) =
                    (&mut reply, started, clock.as_ref())
                {
                    *elapsed_ms = Some(clock.now() - started);
                }
                post(&state.scope, &reply, &payload);
            }
        }
        schedule(worker);
    }

    fn on_message(worker: &Rc<RefCell<Worker>>, event: MessageEvent) {
        let (header, payload) = super::envelope::unpack(&event.data());
        let replies = match decode::<Request>(&header) {
            Ok(request) => worker.borrow_mut().runner.handle(request, payload),
            Err(error) => vec![Reply::Failed {
                id: u64::MAX,
                reason: format!("the worker could not read a request: {error}"),
            }],
        };
        for reply in replies {
            post(&worker.borrow().scope, &reply, &[]);
        }
        schedule(worker);
    }

    #[wasm_bindgen(start)]
    pub fn start() {
        let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
        let worker = Rc::new(RefCell::new(Worker {
            scope: scope.clone(),
            runner: Runner::new(),
            pump_scheduled: false,
        }));
        let handler =
            Closure::<dyn FnMut(MessageEvent)>::new(move |event| on_message(&worker, event));
        scope.set_onmessage(Some(handler.as_ref().unchecked_ref()));
        // The handler lives as long as the worker.
        handler.forget();
        post(&scope, &Reply::Ready, &[]);
    }
}

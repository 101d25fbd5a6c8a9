//! What the Kubewarden host sends for an API server's answer to the Kubernetes
//! capabilities: the answer decoded and re-serialised with kube-core and k8s-openapi (the
//! releases policy-evaluator locks), with the host's own changes to listed objects. Read
//! from kubewarden/kubewarden-controller@3460bb71, crates/policy-evaluator/src/
//! callback_handler{.rs,/kubernetes.rs,/kubernetes/}; docs/relay.md has the details.

use std::collections::{BTreeMap, BTreeSet};

use host_k8s_openapi::api::authorization::v1::SubjectAccessReview;
use kube_core::{DynamicObject, ObjectList, ResourceExt, TypeMeta};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{RelayError, answer, to_vec};
use crate::case::{HostResponse, Input};

/// The request members the host's answer depends on (the case's input, as the host
/// decodes it: a set of field masks).
#[derive(Default, Deserialize)]
struct Request {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    field_masks: Option<BTreeSet<String>>,
}

fn request(input: &Input) -> Request {
    // Inputs are checked where they are read (`case::check_input`, for case files and
    // `--input` alike), so only a member the operation has not is defaulted.
    Request::deserialize(Value::Object(input.clone())).unwrap_or_default()
}

/// kube-client's `Client::request`: the body as UTF-8 text, then `serde_json::from_str`,
/// with kube's error messages (kube-client 3.1.0 `Error::FromUtf8`, `Error::SerdeError`).
fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("UTF-8 Error: {e}"))?;
    serde_json::from_str(text).map_err(|e| format!("Error deserializing response: {e}"))
}

/// `get_resource`: `Api::<DynamicObject>::get_opt`, the field masks applied to the
/// object's members other than `apiVersion`, `kind` and `metadata`, serialised.
pub fn get_resource(input: &Input, body: &[u8]) -> Result<Vec<u8>, String> {
    let mut object: DynamicObject = decode(body)?;
    if let Some(masks) = request(input).field_masks {
        FieldMask::new(&masks).prune(&mut object.data);
    }
    to_vec(&object)
}

/// `list_resources_by_namespace` and `list_resources_all`: the objects a kube-runtime
/// reflector holds, in a list the host builds. A list the reflector cannot load is never
/// answered: the watcher retries it with a backoff and the host waits for it.
pub fn list_resources(input: &Input, body: &[u8]) -> Result<HostResponse, RelayError> {
    let request = request(input);
    let listed: ObjectList<DynamicObject> = decode(body).map_err(RelayError::ListNeverLoaded)?;
    let mask = request.field_masks.as_ref().map(FieldMask::new);
    // The reflector's store is a hash map keyed by namespace and name (kube-runtime's
    // `ObjectRef`, whose other members are ignored): a later object with the same key
    // replaces an earlier one, and the host's order is the map's. The relay keeps the
    // order in which keys first appear.
    let mut items: Vec<DynamicObject> = Vec::new();
    let mut index: BTreeMap<(Option<String>, String), usize> = BTreeMap::new();
    for mut object in listed.items {
        let Some(name) = object.metadata.name.clone() else {
            // kube-runtime's `to_object_ref` expects a name: the watcher task panics.
            return Err(RelayError::ListNeverLoaded(
                "an item has no metadata.name (kube-runtime panics on it)".into(),
            ));
        };
        // policy-evaluator's `modify_object`. `managed_fields_mut` and `annotations_mut`
        // insert an empty list and map where there was none: the guest sees
        // `"managedFields":[]` and `"annotations":{}` on every object.
        object.managed_fields_mut().clear();
        object.annotations_mut().remove("kubectl.kubernetes.io/last-applied-configuration");
        if let Some(mask) = &mask {
            mask.prune(&mut object.data);
        }
        match index.get(&(object.metadata.namespace.clone(), name.clone())) {
            Some(&at) => items[at] = object,
            None => {
                index.insert((object.metadata.namespace.clone(), name), items.len());
                items.push(object);
            }
        }
    }
    let list = ObjectList {
        types: TypeMeta { api_version: request.api_version, kind: format!("{}List", request.kind) },
        metadata: Default::default(),
        items,
    };
    Ok(answer(to_vec(&list)))
}

/// `can_i`: the API server's answer to the SubjectAccessReview the host creates, of which
/// the host sends the `status`.
pub fn can_i(body: &[u8]) -> Result<Vec<u8>, String> {
    let review: SubjectAccessReview = decode(body)?;
    let status = review.status.ok_or("SubjectAccessReview did not return a response")?;
    to_vec(&status)
}

/// policy-evaluator's field masks: dot-separated paths, kept as a tree. A member named
/// in the tree is kept and its value pruned by the member's subtree; any other member is
/// dropped; an array is pruned item by item with the same subtree; a path that ends is
/// kept whole (so `spec` with `spec.replicas` keeps only `spec.replicas`).
#[derive(Default)]
struct FieldMask {
    members: BTreeMap<String, FieldMask>,
}

impl FieldMask {
    fn new(paths: &BTreeSet<String>) -> FieldMask {
        let mut root = FieldMask::default();
        for path in paths {
            path.split('.').fold(&mut root, |node, member| node.members.entry(member.into()).or_default());
        }
        root
    }

    fn prune(&self, value: &mut Value) {
        if self.members.is_empty() {
            return;
        }
        match value {
            Value::Object(map) => map.retain(|key, member| match self.members.get(key) {
                Some(mask) => {
                    mask.prune(member);
                    true
                }
                None => false,
            }),
            Value::Array(items) => items.iter_mut().for_each(|item| self.prune(item)),
            _ => {}
        }
    }
}

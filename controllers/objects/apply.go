/*
Copyright 2026 The bitcoin-network-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package objects

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers/netstate"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/status"
)

// applyObject server-side applies a rendered object under the operator's
// field owner, taking back any field someone else changed (drift repair).
// The API server computes the diff: there is no read-modify-write here. On
// success obj holds the object as the API server returned it (status too).
//
// An apply whose request is identical to the last one sent for the object,
// while the object is still at the resourceVersion that request returned,
// is skipped: it would change nothing, yet the API server would decode,
// admit and merge it (Cluster API keeps a cache of SSA requests for the
// same reason). obj then holds the object from the informer cache.
func (r *Reconciler) applyObject(ctx context.Context, st *netstate.Network, obj client.Object) error {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return fmt.Errorf("converting %T %s: %w", obj, obj.GetName(), err)
	}
	// A typed object carries fields it never set (status, null timestamps);
	// applying them would claim ownership of fields the operator does not
	// manage.
	delete(u, "status")
	pruneNulls(u)
	if tmpls, ok, _ := unstructured.NestedSlice(u, "spec", "volumeClaimTemplates"); ok {
		for _, t := range tmpls {
			if m, ok := t.(map[string]any); ok {
				delete(m, "status")
			}
		}
		_ = unstructured.SetNestedSlice(u, tmpls, "spec", "volumeClaimTemplates")
	}
	gvk := obj.GetObjectKind().GroupVersionKind()
	request, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("encoding %s %s: %w", gvk.Kind, obj.GetName(), err)
	}
	objKey := gvk.Kind + "/" + obj.GetName()
	sum := sha256.Sum256(request)
	var last netstate.AppliedRequest
	st.Update(func(d *netstate.Data) { last = d.Applied[objKey] })
	if last.Hash == sum {
		cur := obj.DeepCopyObject().(client.Object)
		if err := r.Client.Get(ctx, client.ObjectKeyFromObject(obj), cur); err == nil && cur.GetResourceVersion() == last.ResourceVersion {
			reflect.ValueOf(obj).Elem().Set(reflect.ValueOf(cur).Elem())
			obj.GetObjectKind().SetGroupVersionKind(gvk)
			return nil
		}
	}
	applied := &unstructured.Unstructured{Object: u}
	if err := r.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(applied), client.FieldOwner(resources.FieldOwner), client.ForceOwnership); err != nil {
		st.Update(func(d *netstate.Data) { delete(d.Applied, objKey) })
		return &applyError{kind: gvk.Kind, name: obj.GetName(), err: err}
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(applied.Object, obj); err != nil {
		return fmt.Errorf("decoding the applied %s %s: %w", gvk.Kind, obj.GetName(), err)
	}
	if last.ResourceVersion != obj.GetResourceVersion() {
		logf.FromContext(ctx).Info("applied", "kind", gvk.Kind, "object", obj.GetName(), "resourceVersion", obj.GetResourceVersion())
	}
	st.Update(func(d *netstate.Data) {
		d.Applied[objKey] = netstate.AppliedRequest{Hash: sum, ResourceVersion: obj.GetResourceVersion()}
	})
	return nil
}

// applyError is a failed apply of one object.
type applyError struct {
	kind, name string
	err        error
}

func (e *applyError) Error() string { return fmt.Sprintf("applying %s %s: %v", e.kind, e.name, e.err) }
func (e *applyError) Unwrap() error { return e.err }

// maxApplyMessage bounds the API server's message in a condition.
const maxApplyMessage = 1024

// applyRejection turns an apply the API server rejected (invalid object,
// admission policy or webhook, quota, ...) into a problem with its message;
// nil for failures worth retrying as they are (conflicts, timeouts, server
// errors). A rejected Secret is described by its failing fields only: the
// API server's message may quote values.
func applyRejection(err error) *status.Problem {
	var ae *applyError
	if !errors.As(err, &ae) {
		return nil
	}
	switch {
	case apierrors.IsInvalid(err), apierrors.IsForbidden(err), apierrors.IsBadRequest(err),
		apierrors.IsRequestEntityTooLargeError(err), apierrors.IsNotAcceptable(err), apierrors.IsUnsupportedMediaType(err):
	default:
		return nil
	}
	var apiStatus apierrors.APIStatus
	errors.As(err, &apiStatus)
	st := apiStatus.Status()
	msg := st.Message
	if ae.kind == "Secret" {
		var fields []string
		if st.Details != nil {
			for _, c := range st.Details.Causes {
				fields = append(fields, fmt.Sprintf("%s: %s", c.Field, c.Type))
			}
		}
		msg = fmt.Sprintf("%s (%s)", st.Reason, strings.Join(fields, "; "))
	}
	if len(msg) > maxApplyMessage {
		msg = msg[:maxApplyMessage] + "…"
	}
	return &status.Problem{Reason: status.ReasonApplyFailed, Message: fmt.Sprintf(
		"The API server rejected %s %s: %s. The operator retries with backoff; change the spec or the cluster policy that rejects it.", ae.kind, ae.name, msg)}
}

// pruneNulls removes null values (zero timestamps and unset pointers that
// the converter keeps) from a JSON object, recursively.
func pruneNulls(m map[string]any) {
	for k, v := range m {
		switch vv := v.(type) {
		case nil:
			delete(m, k)
		case map[string]any:
			pruneNulls(vv)
		case []any:
			for _, item := range vv {
				if im, ok := item.(map[string]any); ok {
					pruneNulls(im)
				}
			}
		}
	}
}

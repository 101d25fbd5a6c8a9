//go:build sdk_before_v0_13

package main

// The Kubernetes requests of policy-sdk-go before v0.13: kubernetes.CanI takes a
// SubjectAccessReviewRequest, shaped like Kubernetes' own SubjectAccessReview, and the
// resource requests have no FieldMasks (the field_masks input is not sent).

import (
	"github.com/kubewarden/policy-sdk-go/pkg/capabilities"
	"github.com/kubewarden/policy-sdk-go/pkg/capabilities/kubernetes"
)

func canI(h *capabilities.Host, in inputs) result {
	attributes := in.resourceAttributes()
	status, err := kubernetes.CanI(h, kubernetes.SubjectAccessReviewRequest{
		APIVersion: "authorization.k8s.io/v1",
		Kind:       "SubjectAccessReview",
		Spec: kubernetes.SubjectAccessReviewSpec{
			ResourceAttributes: kubernetes.ResourceAttributes{
				Namespace: attributes.Namespace,
				Verb:      attributes.Verb,
				Group:     attributes.Group,
				Resource:  attributes.Resource,
			},
			User:   in.User,
			Groups: in.Groups,
		},
		DisableCache: in.DisableCache,
	})
	if err != nil {
		return sdkError(err)
	}
	return accessView(status.Allowed, status.Denied, status.Reason, status.EvaluationError)
}

func getResourceRequest(in inputs) kubernetes.GetResourceRequest { return getResourceBase(in) }

func listByNamespaceRequest(in inputs) kubernetes.ListResourcesByNamespaceRequest {
	return listByNamespaceBase(in)
}

func listAllRequest(in inputs) kubernetes.ListAllResourcesRequest { return listAllBase(in) }

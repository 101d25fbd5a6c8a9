//go:build !sdk_before_v0_13

package main

// can_i for policy-sdk-go v0.13 and later: kubernetes.CanI takes a CanIRequest.
// Releases before v0.13 build can_i_v0_12.go instead (kwconform's builder sets the
// sdk_before_v0_13 tag for them).

import (
	"github.com/kubewarden/policy-sdk-go/pkg/capabilities"
	"github.com/kubewarden/policy-sdk-go/pkg/capabilities/kubernetes"
)

func canI(h *capabilities.Host, in inputs) result {
	attributes := in.resourceAttributes()
	status, err := kubernetes.CanI(h, kubernetes.CanIRequest{
		SubjectAccessReview: kubernetes.SubjectAccessReview{
			Groups: in.Groups,
			// The SDK's ResourceAttributes has no subresource, name or version.
			ResourceAttributes: kubernetes.ResourceAttributes{
				Namespace: attributes.Namespace,
				Verb:      attributes.Verb,
				Group:     attributes.Group,
				Resource:  attributes.Resource,
			},
			User: in.User,
		},
		DisableCache: in.DisableCache,
	})
	if err != nil {
		return sdkError(err)
	}
	return accessView(status.Allowed, status.Denied, status.Reason, status.EvaluationError)
}

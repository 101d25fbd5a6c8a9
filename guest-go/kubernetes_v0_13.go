//go:build !sdk_before_v0_13

package main

// The Kubernetes requests of policy-sdk-go v0.13 and later: kubernetes.CanI takes a
// CanIRequest, and the resource requests have FieldMasks. Releases before v0.13 build
// kubernetes_v0_12.go instead (kwconform's builder sets the sdk_before_v0_13 tag).

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

func getResourceRequest(in inputs) kubernetes.GetResourceRequest {
	request := getResourceBase(in)
	request.FieldMasks = in.FieldMasks
	return request
}

func listByNamespaceRequest(in inputs) kubernetes.ListResourcesByNamespaceRequest {
	request := listByNamespaceBase(in)
	request.FieldMasks = in.FieldMasks
	return request
}

func listAllRequest(in inputs) kubernetes.ListAllResourcesRequest {
	request := listAllBase(in)
	request.FieldMasks = in.FieldMasks
	return request
}

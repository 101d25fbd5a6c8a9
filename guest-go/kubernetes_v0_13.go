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
	return kubernetes.GetResourceRequest{
		APIVersion:   in.APIVersion,
		Kind:         in.Kind,
		Name:         in.Name,
		Namespace:    in.Namespace,
		DisableCache: in.DisableCache,
		FieldMasks:   in.FieldMasks,
	}
}

func listByNamespaceRequest(in inputs) kubernetes.ListResourcesByNamespaceRequest {
	return kubernetes.ListResourcesByNamespaceRequest{
		APIVersion:    in.APIVersion,
		Kind:          in.Kind,
		Namespace:     in.namespace(),
		LabelSelector: in.LabelSelector,
		FieldSelector: in.FieldSelector,
		FieldMasks:    in.FieldMasks,
	}
}

func listAllRequest(in inputs) kubernetes.ListAllResourcesRequest {
	return kubernetes.ListAllResourcesRequest{
		APIVersion:    in.APIVersion,
		Kind:          in.Kind,
		LabelSelector: in.LabelSelector,
		FieldSelector: in.FieldSelector,
		FieldMasks:    in.FieldMasks,
	}
}

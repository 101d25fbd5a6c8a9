package main

// The operations of the guest protocol (docs/guest-protocol.md), shared by both
// transports: each calls the SDK's public function and projects what it returned.

import (
	"bytes"
	"encoding/json"
	"errors"
	"runtime/debug"
	"strconv"

	"github.com/kubewarden/policy-sdk-go/pkg/capabilities"
	"github.com/kubewarden/policy-sdk-go/pkg/capabilities/crypto"
	"github.com/kubewarden/policy-sdk-go/pkg/capabilities/kubernetes"
	"github.com/kubewarden/policy-sdk-go/pkg/capabilities/net"
	"github.com/kubewarden/policy-sdk-go/pkg/capabilities/oci"
	"github.com/kubewarden/policy-sdk-go/pkg/capabilities/oci/manifest"
	"github.com/kubewarden/policy-sdk-go/pkg/capabilities/oci/manifest_config"
	"github.com/kubewarden/policy-sdk-go/pkg/capabilities/oci/manifest_digest"
	"github.com/kubewarden/policy-sdk-go/pkg/capabilities/oci/verify_v2"
)

const (
	protocolVersion = 1
	sdkModule       = "github.com/kubewarden/policy-sdk-go"
)

// inputs holds every operation's inputs (docs/case-format.md, "Inputs"); each
// operation reads its own. An absent or null list stays nil, an absent string "".
type inputs struct {
	Image              string                        `json:"image"`
	PubKeys            []string                      `json:"pub_keys"`
	Keyless            []oci.KeylessInfo             `json:"keyless"`
	KeylessPrefix      []verify_v2.KeylessPrefixInfo `json:"keyless_prefix"`
	Owner              string                        `json:"owner"`
	Repo               string                        `json:"repo"`
	Certificate        string                        `json:"certificate"`
	CertificateChain   []string                      `json:"certificate_chain"`
	RequireRekorBundle bool                          `json:"require_rekor_bundle"`
	Annotations        map[string]string             `json:"annotations"`
	Cert               *certificateInput             `json:"cert"`
	CertChain          []certificateInput            `json:"cert_chain"`
	NotAfter           string                        `json:"not_after"`
	Host               string                        `json:"host"`
	User               string                        `json:"user"`
	Groups             []string                      `json:"groups"`
	ResourceAttributes *resourceAttributesInput      `json:"resource_attributes"`
	DisableCache       bool                          `json:"disable_cache"`
	APIVersion         string                        `json:"api_version"`
	Kind               string                        `json:"kind"`
	Name               string                        `json:"name"`
	Namespace          *string                       `json:"namespace"`
	LabelSelector      *string                       `json:"label_selector"`
	FieldSelector      *string                       `json:"field_selector"`
	FieldMasks         []string                      `json:"field_masks"`
}

// namespace is the namespace input, "" when there is none (for a plain string parameter).
func (in inputs) namespace() string {
	if in.Namespace == nil {
		return ""
	}
	return *in.Namespace
}

// The Kubernetes resource requests with the members every release has; the
// release-specific files add FieldMasks where the SDK has it.
func getResourceBase(in inputs) kubernetes.GetResourceRequest {
	return kubernetes.GetResourceRequest{
		APIVersion:   in.APIVersion,
		Kind:         in.Kind,
		Name:         in.Name,
		Namespace:    in.Namespace,
		DisableCache: in.DisableCache,
	}
}

func listByNamespaceBase(in inputs) kubernetes.ListResourcesByNamespaceRequest {
	return kubernetes.ListResourcesByNamespaceRequest{
		APIVersion:    in.APIVersion,
		Kind:          in.Kind,
		Namespace:     in.namespace(),
		LabelSelector: in.LabelSelector,
		FieldSelector: in.FieldSelector,
	}
}

func listAllBase(in inputs) kubernetes.ListAllResourcesRequest {
	return kubernetes.ListAllResourcesRequest{
		APIVersion:    in.APIVersion,
		Kind:          in.Kind,
		LabelSelector: in.LabelSelector,
		FieldSelector: in.FieldSelector,
	}
}

// rawView projects the bytes the Kubernetes functions return undecoded: the JSON
// document as encoding/json reads it into an `any` (numbers kept as written; invalid
// UTF-8 and lone surrogates become U+FFFD, a repeated key keeps its last value), or
// {"bytes": base64} when they are not JSON or not a document the protocol's JSON
// carries (docs/decoded-view.md).
func rawView(raw []byte, err error) result {
	if err != nil {
		return sdkError(err)
	}
	asBytes := result{Outcome: "ok", View: map[string]any{"bytes": raw}}
	if !json.Valid(raw) {
		return asBytes
	}
	decoder := json.NewDecoder(bytes.NewReader(raw))
	decoder.UseNumber()
	var document any
	if err := decoder.Decode(&document); err != nil {
		return sdkError(err)
	}
	if !carried(document, 0) {
		return asBytes
	}
	if document == nil {
		// `null` is a document too; a nil View would leave the member out.
		return result{Outcome: "ok", View: json.RawMessage("null")}
	}
	return result{Outcome: "ok", View: document}
}

// carried reports whether the runner's JSON reader takes a value: nested at most
// maxViewDepth deep, every number finite as a float64.
func carried(value any, depth int) bool {
	if depth > maxViewDepth {
		return false
	}
	switch v := value.(type) {
	case map[string]any:
		for _, member := range v {
			if !carried(member, depth+1) {
				return false
			}
		}
	case []any:
		for _, element := range v {
			if !carried(element, depth+1) {
				return false
			}
		}
	case json.Number:
		_, err := strconv.ParseFloat(string(v), 64)
		return err == nil
	}
	return true
}

// maxViewDepth keeps a view and its result line under serde_json's 128 levels.
const maxViewDepth = 100

type resourceAttributesInput struct {
	Namespace string `json:"namespace"`
	Verb      string `json:"verb"`
	Group     string `json:"group"`
	Resource  string `json:"resource"`
}

// resourceAttributes are the inputs' resource attributes, empty when there are none.
func (in inputs) resourceAttributes() resourceAttributesInput {
	if in.ResourceAttributes == nil {
		return resourceAttributesInput{}
	}
	return *in.ResourceAttributes
}

// accessView projects a SubjectAccessReviewStatus (the same four fields in every
// release).
func accessView(allowed, denied bool, reason, evaluationError string) result {
	return result{Outcome: "ok", View: map[string]any{
		"allowed": allowed, "denied": denied, "reason": reason, "evaluationError": evaluationError,
	}}
}

type certificateInput struct {
	Encoding string `json:"encoding"`
	Data     string `json:"data"`
}

// result is one line of output: the decoded view, or the SDK's error.
type result struct {
	Outcome string  `json:"outcome"`
	Kind    any     `json:"kind,omitempty"`
	View    any     `json:"view,omitempty"`
	Error   *string `json:"error,omitempty"`
}

var handlers = map[string]func(*capabilities.Host, inputs) result{
	"oci_manifest": func(h *capabilities.Host, in inputs) result {
		res, err := manifest.GetOCIManifest(h, in.Image)
		if err != nil {
			return sdkError(err)
		}
		switch {
		case res.Image != nil:
			return result{Outcome: "ok", Kind: "image", View: manifestView(res.Image)}
		case res.Index != nil:
			return result{Outcome: "ok", Kind: "index", View: indexView(res.Index)}
		default:
			// The SDK returned neither an image nor an index and no error.
			return result{Outcome: "ok", Kind: nil, View: map[string]any{}}
		}
	},
	"manifest_digest": func(h *capabilities.Host, in inputs) result {
		digest, err := manifest_digest.GetOCIManifestDigest(h, in.Image)
		if err != nil {
			return sdkError(err)
		}
		return result{Outcome: "ok", View: map[string]any{"digest": digest}}
	},
	"oci_manifest_config": func(h *capabilities.Host, in inputs) result {
		res, err := manifest_config.GetOCIManifestAndConfig(h, in.Image)
		if err != nil {
			return sdkError(err)
		}
		return result{Outcome: "ok", View: manifestAndConfigView(res)}
	},
	"verify_pub_keys": func(h *capabilities.Host, in inputs) result {
		return verified(verify_v2.VerifyPubKeysImage(h, in.Image, in.PubKeys, in.Annotations))
	},
	"verify_keyless_exact": func(h *capabilities.Host, in inputs) result {
		return verified(verify_v2.VerifyKeylessExactMatch(h, in.Image, in.Keyless, in.Annotations))
	},
	"verify_keyless_prefix": func(h *capabilities.Host, in inputs) result {
		return verified(verify_v2.VerifyKeylessPrefixMatch(h, in.Image, in.KeylessPrefix, in.Annotations))
	},
	"verify_github_actions": func(h *capabilities.Host, in inputs) result {
		return verified(verify_v2.VerifyKeylessGithubActions(h, in.Image, in.Owner, in.Repo, in.Annotations))
	},
	"verify_certificate": func(h *capabilities.Host, in inputs) result {
		var chain [][]rune
		if in.CertificateChain != nil {
			chain = [][]rune{}
			for _, c := range in.CertificateChain {
				chain = append(chain, []rune(c))
			}
		}
		return verified(verify_v2.VerifyCertificate(h, in.Image, []rune(in.Certificate), chain, in.RequireRekorBundle, in.Annotations))
	},
	"is_certificate_trusted": func(h *capabilities.Host, in inputs) result {
		var cert crypto.Certificate
		if in.Cert != nil {
			cert = certificate(*in.Cert)
		}
		var chain []crypto.Certificate
		if in.CertChain != nil {
			chain = []crypto.Certificate{}
			for _, c := range in.CertChain {
				chain = append(chain, certificate(c))
			}
		}
		res, err := crypto.VerifyCert(h, cert, chain, in.NotAfter)
		if err != nil {
			return sdkError(err)
		}
		return result{Outcome: "ok", View: map[string]any{"trusted": res.Trusted, "reason": res.Reason}}
	},
	"dns_lookup_host": func(h *capabilities.Host, in inputs) result {
		ips, err := net.LookupHost(h, in.Host)
		if err != nil {
			return sdkError(err)
		}
		return result{Outcome: "ok", View: map[string]any{"ips": ips}}
	},
	"can_i": canI,
	"get_resource": func(h *capabilities.Host, in inputs) result {
		return rawView(kubernetes.GetResource(h, getResourceRequest(in)))
	},
	"list_resources_by_namespace": func(h *capabilities.Host, in inputs) result {
		return rawView(kubernetes.ListResourcesByNamespace(h, listByNamespaceRequest(in)))
	},
	"list_resources_all": func(h *capabilities.Host, in inputs) result {
		return rawView(kubernetes.ListResources(h, listAllRequest(in)))
	},
}

// serve runs one request line: a request that is not an inputs object is a
// protocol failure, not an SDK error.
func serve(h *capabilities.Host, op string, line []byte) (result, error) {
	handler, ok := handlers[op]
	if !ok {
		return result{}, errors.New("unknown operation: " + op)
	}
	var in inputs
	if err := json.Unmarshal(line, &in); err != nil {
		return result{}, errors.New("malformed request: " + err.Error())
	}
	return handler(h, in), nil
}

func verified(res oci.VerificationResponse, err error) result {
	if err != nil {
		return sdkError(err)
	}
	return result{Outcome: "ok", View: map[string]any{"is_trusted": res.IsTrusted, "digest": res.Digest}}
}

// certificate maps an encoding name onto the SDK's enum; any other name is the zero
// value, which the SDK itself refuses to encode.
func certificate(c certificateInput) crypto.Certificate {
	encoding := map[string]crypto.CertificateEncoding{"Der": crypto.Der, "Pem": crypto.Pem}[c.Encoding]
	return crypto.Certificate{Encoding: encoding, Data: []rune(c.Data)}
}

func sdkError(err error) result {
	message := err.Error()
	return result{Outcome: "error", Error: &message}
}

// Set by kwconform's builder (-ldflags -X) when the SDK is a local checkout.
var (
	sdkContentHash string
	sdkGitDescribe string
)

// describe reports the protocol version and the SDK linked into this module, read
// from the module's own build information: the module version (for a checkout, the
// version its replace directive replaces) and where it came from.
func describe() map[string]any {
	version := "unknown"
	source := map[string]any{"kind": "release"}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path != sdkModule {
				continue
			}
			version = dep.Version
			if dep.Replace != nil {
				path := dep.Replace.Path
				if dep.Replace.Version != "" && dep.Replace.Version != "(devel)" {
					path += "@" + dep.Replace.Version
				}
				source = map[string]any{"kind": "checkout", "path": path}
				if sdkContentHash != "" {
					source["content_hash"] = sdkContentHash
				}
				if sdkGitDescribe != "" {
					source["git_describe"] = sdkGitDescribe
				}
			}
		}
	}
	return map[string]any{
		"protocol":    protocolVersion,
		"sdk":         sdkModule,
		"sdk_version": version,
		"sdk_source":  source,
		"ops":         ops(),
	}
}

// ops lists the operations this guest serves, in the protocol's order.
func ops() []string {
	return []string{
		"oci_manifest", "manifest_digest", "oci_manifest_config",
		"verify_pub_keys", "verify_keyless_exact", "verify_keyless_prefix", "verify_github_actions", "verify_certificate",
		"is_certificate_trusted", "dns_lookup_host", "can_i",
		"get_resource", "list_resources_by_namespace", "list_resources_all",
	}
}

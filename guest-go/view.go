package main

// Projection of the Go SDK's types into the decoded view (docs/decoded-view.md).
//
// Every field of the image-spec types that carries data is copied explicitly, under
// the key the OCI JSON uses for it. What the Go types cannot tell apart stays merged:
// a plain string, int or bool is always present (its zero value when the document had
// nothing); nil slices, maps and pointers are absent; empty ones are present and empty.
// Equivalences between that and the other SDK are the runner's business, not ours.

import (
	"encoding/base64"
	"sort"
	"time"

	"github.com/kubewarden/policy-sdk-go/pkg/capabilities/oci/manifest_config"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

type object = map[string]any

func manifestView(m *specs.Manifest) object {
	v := object{
		"schemaVersion": m.SchemaVersion,
		"mediaType":     m.MediaType,
		"artifactType":  m.ArtifactType,
		"config":        descriptorView(&m.Config),
	}
	putDescriptors(v, "layers", m.Layers)
	putDescriptor(v, "subject", m.Subject)
	putStringMap(v, "annotations", m.Annotations)
	return v
}

func indexView(i *specs.Index) object {
	v := object{
		"schemaVersion": i.SchemaVersion,
		"mediaType":     i.MediaType,
		"artifactType":  i.ArtifactType,
	}
	putDescriptors(v, "manifests", i.Manifests)
	putDescriptor(v, "subject", i.Subject)
	putStringMap(v, "annotations", i.Annotations)
	return v
}

func manifestAndConfigView(r *manifest_config.OciImageManifestAndConfigResponse) object {
	v := object{"digest": r.Digest}
	if r.Manifest != nil {
		v["manifest"] = manifestView(r.Manifest)
	}
	if r.ImageConfig != nil {
		v["config"] = imageConfigView(r.ImageConfig)
	}
	return v
}

func descriptorView(d *specs.Descriptor) object {
	v := object{
		"mediaType":    d.MediaType,
		"digest":       string(d.Digest),
		"size":         d.Size,
		"artifactType": d.ArtifactType,
	}
	putStrings(v, "urls", d.URLs)
	putStringMap(v, "annotations", d.Annotations)
	if d.Data != nil {
		// Go decodes `data` from base64 into bytes; they are recorded as bytes.
		v["data"] = object{"bytes": base64.StdEncoding.EncodeToString(d.Data)}
	}
	if d.Platform != nil {
		v["platform"] = platformView(d.Platform)
	}
	return v
}

func platformView(p *specs.Platform) object {
	v := object{
		"architecture": p.Architecture,
		"os":           p.OS,
		"os.version":   p.OSVersion,
		"variant":      p.Variant,
	}
	putStrings(v, "os.features", p.OSFeatures)
	return v
}

func imageConfigView(c *specs.Image) object {
	v := object{
		"author":       c.Author,
		"architecture": c.Architecture,
		"os":           c.OS,
		"os.version":   c.OSVersion,
		"variant":      c.Variant,
		"config":       runtimeConfigView(&c.Config),
		"rootfs":       rootfsView(&c.RootFS),
	}
	putTime(v, "created", c.Created)
	putStrings(v, "os.features", c.OSFeatures)
	if c.History != nil {
		history := make([]any, 0, len(c.History))
		for i := range c.History {
			history = append(history, historyView(&c.History[i]))
		}
		v["history"] = history
	}
	return v
}

func runtimeConfigView(c *specs.ImageConfig) object {
	v := object{
		"User":        c.User,
		"WorkingDir":  c.WorkingDir,
		"StopSignal":  c.StopSignal,
		"ArgsEscaped": c.ArgsEscaped,
	}
	putStringSet(v, "ExposedPorts", c.ExposedPorts)
	putStrings(v, "Env", c.Env)
	putStrings(v, "Entrypoint", c.Entrypoint)
	putStrings(v, "Cmd", c.Cmd)
	putStringSet(v, "Volumes", c.Volumes)
	putStringMap(v, "Labels", c.Labels)
	return v
}

func rootfsView(r *specs.RootFS) object {
	v := object{"type": r.Type}
	if r.DiffIDs != nil {
		ids := make([]string, 0, len(r.DiffIDs))
		for _, d := range r.DiffIDs {
			ids = append(ids, string(d))
		}
		v["diff_ids"] = ids
	}
	return v
}

func historyView(h *specs.History) object {
	v := object{
		"author":      h.Author,
		"created_by":  h.CreatedBy,
		"comment":     h.Comment,
		"empty_layer": h.EmptyLayer,
	}
	putTime(v, "created", h.Created)
	return v
}

func putDescriptors(v object, key string, ds []specs.Descriptor) {
	if ds == nil {
		return
	}
	views := make([]any, 0, len(ds))
	for i := range ds {
		views = append(views, descriptorView(&ds[i]))
	}
	v[key] = views
}

func putDescriptor(v object, key string, d *specs.Descriptor) {
	if d != nil {
		v[key] = descriptorView(d)
	}
}

func putStrings(v object, key string, s []string) {
	if s != nil {
		v[key] = s
	}
}

// putStringMap relies on encoding/json writing map keys sorted.
func putStringMap(v object, key string, m map[string]string) {
	if m != nil {
		v[key] = m
	}
}

// putStringSet records a JSON object used as a set (Go: map[string]struct{}) as its
// sorted keys.
func putStringSet(v object, key string, m map[string]struct{}) {
	if m == nil {
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	v[key] = keys
}

// putTime records a *time.Time as the SDK would print it back (RFC 3339 with nanoseconds).
func putTime(v object, key string, t *time.Time) {
	if t != nil {
		v[key] = t.Format(time.RFC3339Nano)
	}
}

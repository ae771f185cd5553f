package manifest

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/breakwater-ci/breakwater/internal/facts"
)

// podSpecPath is where each workload kind keeps its pod spec.
var podSpecPath = map[string][]string{
	"Pod":         {"spec"},
	"Deployment":  {"spec", "template", "spec"},
	"StatefulSet": {"spec", "template", "spec"},
	"DaemonSet":   {"spec", "template", "spec"},
	"ReplicaSet":  {"spec", "template", "spec"},
	"Job":         {"spec", "template", "spec"},
	"CronJob":     {"spec", "jobTemplate", "spec", "template", "spec"},
}

// maxListDepth bounds how deeply kind: List items may nest.
const maxListDepth = 8

// kubernetes reads every document of a multi-document file. A document
// whose kind is one in podSpecPath gives a Workload (at the line of its
// kind) and an ImageUse per container and init container; a List is
// walked item by item; anything else, Kubernetes or not, is skipped.
//
// Workload.Strategy is Deployment's spec.strategy.type only: other kinds
// leave it "" (a StatefulSet's updateStrategy stops each pod before it
// starts its replacement, so it is not the same thing). Replicas is read
// for Deployment, StatefulSet and ReplicaSet, nil when absent or not an
// integer.
func (x *extractor) kubernetes(data []byte) error {
	// A file that never says apiVersion and kind holds no object: skip
	// the parse, so unrelated YAML costs nothing and cannot fail.
	if !bytes.Contains(data, []byte("apiVersion")) || !bytes.Contains(data, []byte("kind")) {
		return nil
	}
	return x.documents(data, false, func(root *yaml.Node) error {
		x.object(root, 0)
		return nil
	})
}

func (x *extractor) object(n *yaml.Node, depth int) {
	kindNode := scalar(get(n, "kind"))
	if kindNode == nil || str(get(n, "apiVersion")) == "" {
		return
	}
	kind := kindNode.Value
	if strings.HasSuffix(kind, "List") {
		if depth < maxListDepth {
			for _, item := range sequence(get(n, "items")) {
				x.object(item, depth+1)
			}
		}
		return
	}
	specPath, ok := podSpecPath[kind]
	if !ok {
		return
	}
	meta := get(n, "metadata")
	name := str(get(meta, "name"))
	if name == "" {
		name = str(get(meta, "generateName"))
	}
	w := &facts.Workload{File: x.file, Line: kindNode.Line, Kind: kind, Name: name}
	// ref is the workload as keys and labels name it: [namespace/]name.
	ref := name
	if ns := str(get(meta, "namespace")); ns != "" {
		ref = ns + "/" + name
	}
	spec := get(n, "spec")
	switch kind {
	case "Deployment", "StatefulSet", "ReplicaSet":
		if r, err := strconv.Atoi(str(get(spec, "replicas"))); err == nil {
			w.Replicas = &r
		}
	}
	if kind == "Deployment" {
		w.Strategy = str(get(get(spec, "strategy"), "type"))
	}
	pod := n
	for _, k := range specPath {
		pod = get(pod, k)
	}
	claims := map[string]bool{}
	for _, v := range sequence(get(pod, "volumes")) {
		if name := str(get(v, "name")); name != "" && get(v, "persistentVolumeClaim") != nil {
			claims[name] = true
		}
	}
	if kind == "StatefulSet" {
		for _, t := range sequence(get(spec, "volumeClaimTemplates")) {
			if name := str(get(get(t, "metadata"), "name")); name != "" {
				claims[name] = true
			}
		}
	}
	for _, e := range entries(pod) {
		var init bool
		switch e.key {
		case "containers":
		case "initContainers":
			init = true
		default:
			continue
		}
		for i, c := range sequence(e.value) {
			x.container(w, ref, c, i, init, claims)
		}
	}
	x.m.Workloads = append(x.m.Workloads, w)
}

// container adds one container to its workload and, when it names an
// image, an ImageUse. ref is the workload's [namespace/]name.
func (x *extractor) container(w *facts.Workload, ref string, n *yaml.Node, i int, init bool, claims map[string]bool) {
	if mapping(n) == nil {
		return
	}
	c := facts.Container{Name: str(get(n, "name")), Init: init, Line: n.Line}
	img := scalar(get(n, "image"))
	if img != nil {
		c.Image, c.Line = img.Value, img.Line
	}
	for _, m := range sequence(get(n, "volumeMounts")) {
		if p := str(get(m, "mountPath")); p != "" && claims[str(get(m, "name"))] {
			c.DataMounts = append(c.DataMounts, p)
		}
	}
	w.Containers = append(w.Containers, c)
	if img == nil || img.Value == "" {
		return
	}
	if x.full() {
		x.add(&facts.ImageUse{Line: img.Line})
		return
	}
	role, what := "container", "container"
	if init {
		role, what = "initContainer", "init container"
	}
	id, label := role+":"+c.Name, fmt.Sprintf("%s %q", what, c.Name)
	if c.Name == "" {
		id, label = fmt.Sprintf("%s#%d", role, i), fmt.Sprintf("%s %d", what, i)
	}
	u := &facts.ImageUse{
		File: x.file, Line: img.Line,
		Key:   w.Kind + "/" + ref + "/" + id,
		Label: fmt.Sprintf("%s of %s %q", label, w.Kind, ref),
		Raw:   img.Value, Image: img.Value,
	}
	if u.Unresolved = placeholders(img.Value); u.Unresolved != nil {
		u.Image = ""
	}
	x.add(u)
}

package pipeline

import (
	"context"
	"sort"
)

// DetectedImage is one place a side of the change runs Postgres.
type DetectedImage struct {
	File          string `json:"file"`
	Line          int    `json:"line"`
	Image         string `json:"image"`
	PostgresMajor string `json:"postgres_major,omitempty"`
	OS            string `json:"os,omitempty"`
	Libc          string `json:"libc,omitempty"`
}

// Detection lists the Postgres images of both sides. Primary is the image
// a CI job should start as its Postgres service: the one named most
// often, ties broken by path.
type Detection struct {
	Base        string          `json:"base"`
	Head        string          `json:"head"`
	BaseImages  []DetectedImage `json:"base_images"`
	HeadImages  []DetectedImage `json:"head_images"`
	BasePrimary string          `json:"base_primary"`
	HeadPrimary string          `json:"head_primary"`
}

// Detect reads every Dockerfile of both sides, changed or not, and lists
// the database images in them.
func Detect(ctx context.Context, opt Options) (*Detection, error) {
	repo, set, cfg, err := prepare(ctx, opt)
	if err != nil {
		return nil, err
	}
	defer repo.Close()
	d := &Detection{Base: set.Base, Head: set.Head, BaseImages: []DetectedImage{}, HeadImages: []DetectedImage{}}
	rd := newReader(repo, cfg)
	for _, side := range []struct {
		commit string
		out    *[]DetectedImage
	}{{set.Base, &d.BaseImages}, {set.Head, &d.HeadImages}} {
		inv, err := rd.inventory(ctx, side.commit)
		if err != nil {
			return nil, err
		}
		rd.resolveBuilt(inv)
		for _, ff := range inv.sorted() {
			for _, u := range ff.images {
				if u.Image == "" || !u.IsDatabase() {
					continue
				}
				*side.out = append(*side.out, DetectedImage{
					File: u.File, Line: u.Line, Image: u.Image,
					PostgresMajor: u.Identity.PostgresMajor.String(),
					OS:            u.Identity.OS, Libc: u.Identity.Libc.Family,
				})
			}
		}
	}
	d.BasePrimary, d.HeadPrimary = primary(d.BaseImages), primary(d.HeadImages)
	return d, nil
}

// primary is the database image named most often; only official-style
// images that carry a Postgres major qualify, so a CI service can run it.
func primary(images []DetectedImage) string {
	count := map[string]int{}
	for _, im := range images {
		if im.PostgresMajor != "" {
			count[im.Image]++
		}
	}
	names := make([]string, 0, len(count))
	for n := range count {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if count[names[i]] != count[names[j]] {
			return count[names[i]] > count[names[j]]
		}
		return names[i] < names[j]
	})
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

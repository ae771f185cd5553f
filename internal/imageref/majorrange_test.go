package imageref

import "testing"

func TestMajorRange(t *testing.T) {
	r, err := ParseMajorRange(" >=13  <=17 ")
	if err != nil {
		t.Fatal(err)
	}
	if r.String() != ">=13 <=17" {
		t.Errorf("String = %q", r)
	}
	for v, want := range map[string]bool{"9.6": false, "12": false, "13": true, "16": true, "17": true, "18": false} {
		m, _ := ParsePGMajor(v)
		if got := r.Contains(m); got != want {
			t.Errorf("Contains(%s) = %v, want %v", v, got, want)
		}
	}
	pre, err := ParseMajorRange(">9.5 <10")
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := ParsePGMajor("9.6"); !pre.Contains(m) {
		t.Error(">9.5 <10 does not contain 9.6")
	}
	for _, bad := range []string{"", "13", "~13", ">=banana", ">= 13"} {
		if _, err := ParseMajorRange(bad); err == nil {
			t.Errorf("ParseMajorRange(%q) succeeded", bad)
		}
	}
}

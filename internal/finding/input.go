package finding

// Rules about the input itself. They live here, not in a check package,
// because every extractor reports them.
var (
	ParseError = &Rule{
		ID:       "input/parse-error",
		Title:    "File could not be parsed",
		Severity: Error,
		Summary:  "A file breakwater must read does not parse, so none of its checks ran on it.",
		Incident: "A broken file that a checker silently skips is reported as clean; an unchecked file must never look like a checked one.",
	}
	Skipped = &Rule{
		ID:       "input/skipped",
		Title:    "Not read",
		Severity: Notice,
		Summary:  "A changed file was not checked (binary, a submodule, over the size cap, or a symlink that leaves the repository), or an image could not be read from its registry.",
		Incident: "Silent skips hide unchecked changes; every skip is named so a reviewer knows what was not looked at.",
	}
)

func init() { Register(ParseError, Skipped) }

package localai

import (
	"slices"
	"strings"
	"unicode"

	"github.com/repurpose/repurpose/ports"
)

// sectionKind is what a requested newsletter section is for, read from its
// name.
type sectionKind int

const (
	kindGeneric sectionKind = iota
	kindIntro
	kindConclusion
	kindHighlights
	kindQuote
	kindStats
	kindTips
)

// sectionKinds maps words of a section name to its kind, first match wins.
var sectionKinds = []struct {
	word string
	kind sectionKind
}{
	{"quot", kindQuote},
	{"stat", kindStats}, {"number", kindStats}, {"data", kindStats}, {"figure", kindStats}, {"metric", kindStats},
	{"tip", kindTips}, {"action", kindTips}, {"next step", kindTips}, {"how to", kindTips}, {"advice", kindTips},
	{"recommend", kindTips}, {"resource", kindTips}, {"trick", kindTips}, {"tool", kindTips},
	{"highlight", kindHighlights}, {"takeaway", kindHighlights}, {"key", kindHighlights}, {"summary", kindHighlights},
	{"tldr", kindHighlights}, {"tl;dr", kindHighlights}, {"glance", kindHighlights}, {"recap", kindHighlights},
	{"brief", kindHighlights}, {"points", kindHighlights},
	{"conclu", kindConclusion}, {"closing", kindConclusion}, {"outro", kindConclusion}, {"wrap", kindConclusion},
	{"sign", kindConclusion}, {"final", kindConclusion}, {"goodbye", kindConclusion}, {"farewell", kindConclusion},
	{"until next", kindConclusion}, {"ending", kindConclusion},
	{"intro", kindIntro}, {"welcome", kindIntro}, {"opening", kindIntro}, {"overview", kindIntro},
	{"editor", kindIntro}, {"hello", kindIntro}, {"preface", kindIntro}, {"letter", kindIntro},
}

func kindOf(name string) sectionKind {
	l := strings.ToLower(humanize(name))
	for _, sk := range sectionKinds {
		if strings.Contains(l, sk.word) {
			return sk.kind
		}
	}
	return kindGeneric
}

// genericNameWords say nothing about a section's subject.
var genericNameWords = setOf("main", "content", "contents", "body", "story", "stories", "feature", "featured",
	"article", "articles", "news", "update", "updates", "section", "deep", "dive", "spotlight", "more", "other",
	"misc", "extra", "detail", "details", "top", "lead", "in", "depth", "part", "this", "issue", "week", "month")

// adviceWords mark sentences that advise or state a lesson; imperatives
// are verbs that open an instruction ("Write it down.").
var (
	adviceWords = setOf("should", "must", "needs", "try", "consider", "avoid", "remember", "recommend",
		"best", "lesson", "lessons", "learned", "learnt", "tip", "key", "essential", "important")
	imperatives = setOf("use", "start", "try", "keep", "set", "ask", "build", "choose", "focus", "stop", "begin",
		"plan", "write", "make", "avoid", "consider", "remember", "don't", "do", "take", "give", "find", "treat",
		"measure", "document", "share", "schedule", "hire", "invest", "create", "add", "check", "review")
)

// newsletterSize is the sentences per section for each length: the lead
// (intro, conclusion), a body section, and a list.
var newsletterSize = map[string]struct{ lead, body, list int }{
	"short":  {1, 2, 3},
	"medium": {2, 4, 4},
	"long":   {3, 7, 6},
}

// newsletter writes one part per requested section, in order. Sections are
// read by their names: an introduction opens with the document's lead and
// lists what's inside, a conclusion closes with its ending, highlights,
// quotes, numbers and tips pick matching sentences, and every other section
// takes the next topic segment of the document (or, when its name names a
// subject the document covers, the sentences about that subject).
func newsletter(d *doc, p params) output {
	names := p.list("sections")
	tn := toneFor(p.str("tone"), "informative")
	size, ok := newsletterSize[p.str("length")]
	if !ok {
		size = newsletterSize["medium"]
	}

	kinds := make([]sectionKind, len(names))
	seenKind := map[sectionKind]bool{}
	for i, name := range names {
		k := kindOf(name)
		if (k == kindIntro || k == kindConclusion) && seenKind[k] {
			k = kindGeneric // a second introduction is just more content
		}
		seenKind[k] = true
		kinds[i] = k
	}

	used := make([]bool, len(d.sents))
	bodies := make([]string, len(names))
	n := len(d.sents)

	// The lead and the ending first, so the body sections don't take them.
	var introIDs, closeIDs []int
	if seenKind[kindIntro] {
		for i := 0; i < n && len(introIDs) < size.lead; i++ {
			if i > 0 && d.sents[i].para != d.sents[0].para && len(introIDs) > 0 {
				break
			}
			introIDs = append(introIDs, i)
			used[i] = true
		}
	}
	if seenKind[kindConclusion] {
		lastPara := d.sents[n-1].para
		for i := n - 1; i >= 0 && len(closeIDs) < size.lead; i-- {
			if used[i] || (d.sents[i].para != lastPara && len(closeIDs) > 0) {
				break
			}
			closeIDs = append(closeIDs, i)
			used[i] = true
		}
		slices.Sort(closeIDs)
	}

	// Subject sections (their name names something the document covers)
	// take the sentences about it; the other generic sections share the
	// remaining text's topic segments.
	subjectTerms := make([][]int32, len(names))
	var generic []int
	for i, name := range names {
		if kinds[i] != kindGeneric {
			continue
		}
		if ids := d.nameTerms(name); len(ids) > 0 {
			subjectTerms[i] = ids
			continue
		}
		generic = append(generic, i)
	}
	for i := range names {
		if subjectTerms[i] == nil {
			continue
		}
		ids := d.pick(d.all(), size.body, used, nil, func(s int) float64 {
			return d.sents[s].score * (0.2 + float64(d.termHits(s, subjectTerms[i])))
		})
		bodies[i] = d.paragraphs(d.markUsed(ids, used))
	}
	labels := make([]string, 0, len(generic))
	if len(generic) > 0 {
		var pool []int
		for i := range d.sents {
			if !used[i] {
				pool = append(pool, i)
			}
		}
		segs := d.segment(pool, len(generic))
		avoid := map[string]bool{}
		for g, i := range generic {
			var seg []int
			if g < len(segs) {
				seg = segs[g]
			}
			ids := d.pick(seg, size.body, used, nil, nil)
			if lbl := d.label(ids, avoid); lbl != "" {
				labels = append(labels, lbl)
			}
			bodies[i] = d.paragraphs(d.markUsed(ids, used))
		}
	}
	for i := range names {
		switch kinds[i] {
		case kindHighlights:
			bodies[i] = d.bullets(d.markUsed(d.pick(d.all(), size.list, used, nil, nil), used))
		case kindQuote:
			q := d.pick(d.all(), 1, used, nil, func(s int) float64 {
				v := d.sents[s].score
				if strings.ContainsAny(d.sents[s].text, "\"“”") {
					v *= 3 // someone's words
				}
				if w := d.sents[s].words; w < 8 || w > 40 {
					v *= 0.3
				}
				return v
			})
			if ids := d.markUsed(q, used); len(ids) > 0 {
				bodies[i] = "> " + d.sents[ids[0]].text
			}
		case kindStats:
			bodies[i] = d.bullets(d.markUsed(d.pickWhere(size.list, used, func(s int) bool { return hasDigit(d.sents[s].text) }), used))
		case kindTips:
			bodies[i] = d.bullets(d.markUsed(d.pickWhere(size.list, used, d.isAdvice), used))
		}
	}
	for i := range names {
		switch kinds[i] {
		case kindIntro:
			topics := shortTopics(append(slices.Clone(labels), d.topTopics(3)...), 3)
			var framing string
			if len(topics) > 0 {
				framing = fill(choose(tn.intro, 0, 0), listPhrase(topics[:min(3, len(topics))]))
			}
			bodies[i] = joinNonEmpty("\n\n", d.paragraphs(introIDs), framing)
		case kindConclusion:
			bodies[i] = joinNonEmpty("\n\n", d.paragraphs(closeIDs), fill(choose(tn.closing, 0, 0), d.mainTopic()))
		}
		if bodies[i] == "" { // the document ran out: repeat its strongest sentences
			ids := d.pick(d.all(), max(1, size.body/2), nil, nil, nil)
			slices.Sort(ids)
			bodies[i] = d.paragraphs(ids)
		}
	}

	parts := make([]ports.AIPart, len(names))
	for i, name := range names {
		parts[i] = ports.AIPart{Title: humanize(name), Body: bodies[i]}
	}
	preamble := ""
	if d.title != "" {
		preamble = "# " + d.title
	}
	return output{text: joinParts(preamble, parts, nil), parts: parts}
}

// markUsed marks ids used and returns them in document order.
func (d *doc) markUsed(ids []int, used []bool) []int {
	for _, i := range ids {
		used[i] = true
	}
	slices.Sort(ids)
	return ids
}

// pickWhere picks up to k unused sentences that satisfy ok, the strongest
// first; the strongest unused ones when none do.
func (d *doc) pickWhere(k int, used []bool, ok func(i int) bool) []int {
	var pool []int
	for i := range d.sents {
		if ok(i) {
			pool = append(pool, i)
		}
	}
	ids := d.pick(pool, k, used, nil, nil)
	if len(ids) == 0 {
		ids = d.pick(d.all(), k, used, nil, nil)
	}
	return ids
}

func hasDigit(s string) bool { return strings.IndexFunc(s, unicode.IsDigit) >= 0 }

func (d *doc) isAdvice(i int) bool {
	toks := d.sents[i].toks
	if len(toks) > 0 && imperatives[toks[0].lower] && toks[0].surface != toks[0].lower {
		return true
	}
	for _, t := range toks {
		if adviceWords[t.lower] {
			return true
		}
	}
	return false
}

// nameTerms returns the document's terms named by a section name, unless
// the name is generic ("main_content").
func (d *doc) nameTerms(name string) []int32 {
	var ids []int32
	for _, t := range tokenize(humanize(name), nil) {
		if t.stop || genericNameWords[t.lower] {
			continue
		}
		for k, id := range d.keyTerms {
			if k >= 200 {
				break
			}
			if d.terms[id].stem == t.stem {
				ids = append(ids, id)
				break
			}
		}
	}
	return ids
}

// termHits counts how many of ids sentence i contains.
func (d *doc) termHits(i int, ids []int32) int {
	n := 0
	for _, id := range ids {
		if d.hasTerms(i, []int32{id}) {
			n++
		}
	}
	return n
}

// humanize turns a section name into a title: "main_content" -> "Main
// content", "KEY_POINTS" -> "Key points", "FAQ" stays.
func humanize(name string) string {
	s := cleanText(strings.NewReplacer("_", " ", "-", " ").Replace(name))
	if runes(s) > 3 && strings.ToUpper(s) == s {
		s = strings.ToLower(s)
	}
	if s == "" {
		s = "Section"
	}
	return capitalize(s)
}

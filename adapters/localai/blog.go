package localai

import (
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// conclusionHeadings mark a document's own closing section.
var conclusionHeadings = []string{"conclusion", "summary", "final thought", "wrap", "takeaway", "closing",
	"in short", "next step", "the bottom line", "what's next", "looking ahead", "outlook"}

func isConclusionHeading(h string) bool {
	l := strings.ToLower(h)
	for _, w := range conclusionHeadings {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

// slot is a part of a composed text that takes sentences: an introduction,
// a section or a conclusion.
type slot struct {
	heading string
	label   string // topic in running text
	cands   []int  // candidate sentences, document order
	chosen  []int
	most    int     // most sentences (0: no limit)
	share   float64 // share of the word budget
	lead    bool    // the minimum is the first candidate (an opening)
}

// layout is the raw material of a blog post: where its introduction,
// sections and conclusion come from.
type layout struct {
	intro, conclusion []int
	sections          []slot
	ownHeadings       bool // the sections are the document's own
}

// blogLayout reserves the opening and closing of the document for the
// introduction and conclusion and divides the rest into k sections: the
// document's own sections when it has at least three, else topic segments.
func (d *doc) blogLayout(k, target int) layout {
	var l layout
	reserved := make([]bool, len(d.sents))
	n := len(d.sents)
	if d.headed && d.secs[0].hi > d.secs[0].lo {
		for i := d.secs[0].lo; i < d.secs[0].hi && len(l.intro) < 3; i++ {
			l.intro = append(l.intro, i)
		}
	} else {
		for i := 0; i < n && d.sents[i].para == d.sents[0].para && len(l.intro) < 3; i++ {
			l.intro = append(l.intro, i)
		}
		if len(l.intro) > 2 && n < 12 {
			l.intro = l.intro[:2]
		}
	}
	if len(l.intro) == 0 {
		l.intro = []int{0}
	}
	for _, i := range l.intro {
		reserved[i] = true
	}
	lastSec := d.secs[len(d.secs)-1]
	switch {
	case d.headed && isConclusionHeading(lastSec.heading) && lastSec.hi > lastSec.lo:
		for i := lastSec.lo; i < lastSec.hi && len(l.conclusion) < 4; i++ {
			if !reserved[i] {
				l.conclusion = append(l.conclusion, i)
			}
		}
	case d.headed:
		// The last section is content of its own, not a conclusion.
	case d.paras >= 3:
		lastPara := d.sents[n-1].para
		for i := n - 1; i >= 0 && d.sents[i].para == lastPara && len(l.conclusion) < 5; i-- {
			if !reserved[i] {
				l.conclusion = append(l.conclusion, i)
			}
		}
	case n >= 6:
		l.conclusion = []int{n - 2, n - 1}
	}
	slices.Sort(l.conclusion)
	for _, i := range l.conclusion {
		reserved[i] = true
	}

	avoid := map[string]bool{}
	if d.headed {
		var groups []group
		for _, s := range d.secs {
			if s.heading == "" || s.hi <= s.lo {
				continue
			}
			var ids []int
			for i := s.lo; i < s.hi; i++ {
				if !reserved[i] {
					ids = append(ids, i)
				}
			}
			if len(ids) > 0 {
				groups = append(groups, group{heading: s.heading, ids: ids})
			}
		}
		if len(groups) >= 3 {
			material := 0
			for _, g := range groups {
				for _, i := range g.ids {
					material += d.sents[i].words
				}
			}
			if material < target*6/5 {
				k = 5 // a short document: keep all of its sections
			}
			if len(groups) > k {
				groups = d.bestGroups(groups, k)
			}
			for _, g := range groups {
				l.sections = append(l.sections, slot{heading: g.heading, label: headingTopic(g.heading), cands: g.ids})
			}
			l.ownHeadings = true
			return l
		}
	}
	var pool []int
	for i := range d.sents {
		if !reserved[i] {
			pool = append(pool, i)
		}
	}
	for _, seg := range d.segment(pool, k) {
		lbl := d.label(seg, avoid)
		h := capitalize(lbl)
		if h == "" {
			h = "Key points"
		}
		l.sections = append(l.sections, slot{heading: h, label: lbl, cands: seg})
	}
	return l
}

// bestGroups keeps the k groups with the strongest sentences, in order.
func (d *doc) bestGroups(groups []group, k int) []group {
	type ranked struct {
		g int
		v float64
	}
	rs := make([]ranked, len(groups))
	for g, gr := range groups {
		scores := make([]float64, 0, len(gr.ids))
		for _, i := range gr.ids {
			scores = append(scores, d.sents[i].score)
		}
		slices.Sort(scores)
		slices.Reverse(scores)
		var v float64
		for _, s := range scores[:min(3, len(scores))] {
			v += s
		}
		rs[g] = ranked{g, v}
	}
	slices.SortStableFunc(rs, func(a, b ranked) int {
		switch {
		case a.v > b.v:
			return -1
		case a.v < b.v:
			return 1
		}
		return a.g - b.g
	})
	keep := make([]int, 0, k)
	for _, r := range rs[:k] {
		keep = append(keep, r.g)
	}
	slices.Sort(keep)
	out := make([]group, 0, k)
	for _, g := range keep {
		out = append(out, groups[g])
	}
	return out
}

// blogPost writes a post of about word_count words: a title, an
// introduction from the document's opening, three to five sections (the
// document's own or its topic segments) filled with their strongest
// sentences, and a conclusion from its closing. When the document is
// shorter than word_count, the post uses all of it and stays shorter:
// nothing is padded.
func blogPost(d *doc, p params) output {
	target := p.integer("word_count")
	tn := toneFor(p.str("tone"), "professional")
	audience := cleanText(p.str("target_audience"))
	k := 3
	if target >= 400 {
		k = max(3, min(5, int(math.Round(float64(target)/250)), (d.paras+2)/4))
	}

	title := d.title
	if title == "" {
		title = capitalize(d.mainTopic())
	}
	l := d.blogLayout(k, target)

	// The framing lines name the sections; their length is estimated from
	// the segment labels and they are written once the sections are filled.
	framingFor := func(labels []string) string {
		if target < 300 || len(labels) == 0 {
			return ""
		}
		f := fill(choose(tn.intro, 0, 0), listPhrase(shortTopics(labels, 5)))
		if a := strings.ToLower(audience); target >= 500 && a != "" && a != "general" && a != "everyone" && a != "all" {
			f += " It is written with " + audience + " in mind."
		}
		return f
	}
	var labels []string
	for _, s := range l.sections {
		if s.label != "" {
			labels = append(labels, s.label)
		}
	}
	framing := framingFor(labels)
	closingFor := func(labels []string) string {
		var c string
		if target >= 300 || len(l.conclusion) == 0 {
			c = fill(choose(tn.closing, 0, 0), d.mainTopic())
		}
		if len(l.conclusion) == 0 && len(labels) > 0 {
			c = joinNonEmpty(" ", "To recap, this post covered "+listPhrase(shortTopics(labels, 5))+".", c)
		}
		return c
	}
	closing := closingFor(labels)

	slots := make([]slot, 0, len(l.sections)+2)
	slots = append(slots, slot{cands: l.intro, most: 4, share: 0.12, lead: true})
	material := 0
	for _, s := range l.sections {
		for _, i := range s.cands {
			material += d.sents[i].words
		}
	}
	for _, s := range l.sections {
		w := 0
		for _, i := range s.cands {
			w += d.sents[i].words
		}
		s.share = 0.78 * (0.5/float64(len(l.sections)) + 0.5*float64(w)/float64(max(material, 1)))
		slots = append(slots, s)
	}
	slots = append(slots, slot{heading: "Conclusion", cands: l.conclusion, most: 3, share: 0.10})

	overhead := countWords(title) + countWords(framing) + countWords(closing)
	for _, s := range slots {
		overhead += countWords(s.heading)
	}
	d.fillSlots(slots, target, overhead)

	// Name generated sections after what they now show.
	if !l.ownHeadings {
		avoid := map[string]bool{}
		labels = labels[:0]
		for n := 1; n < len(slots)-1; n++ {
			if lbl := d.label(slots[n].chosen, avoid); lbl != "" {
				slots[n].heading = capitalize(lbl)
				labels = append(labels, lbl)
			}
		}
		framing = framingFor(labels)
		closing = closingFor(labels)
	}

	var b strings.Builder
	b.WriteString("# ")
	b.WriteString(title)
	for n, s := range slots {
		body := d.paragraphs(s.chosen)
		if n == 0 {
			body = joinNonEmpty("\n\n", body, framing)
		}
		if n == len(slots)-1 {
			body = joinNonEmpty("\n\n", body, closing)
		}
		if body == "" {
			continue
		}
		b.WriteString("\n\n")
		if s.heading != "" {
			b.WriteString("## ")
			b.WriteString(s.heading)
			b.WriteString("\n\n")
		}
		b.WriteString(body)
	}
	return singlePart(title, b.String())
}

// fillSlots chooses sentences for slots so that, with overhead words of
// headings and framing, the text comes to about target words: first one
// sentence per slot (short ones when the budget is tight), then the best
// remaining sentence of whichever slot is furthest below its share, while
// the total stays under target + 8%.
func (d *doc) fillSlots(slots []slot, target, overhead int) {
	total := overhead
	chosen := make([]bool, len(d.sents))
	take := func(s *slot, i int) {
		s.chosen = append(s.chosen, i)
		chosen[i] = true
		total += d.sents[i].words
	}
	filled := 0
	for _, s := range slots {
		if len(s.cands) > 0 {
			filled++
		}
	}
	perSlot := float64(target-overhead) / float64(max(filled, 1))
	for n := range slots {
		s := &slots[n]
		if len(s.cands) == 0 {
			continue
		}
		if s.lead && float64(d.sents[s.cands[0]].words) <= perSlot*2 {
			take(s, s.cands[0])
			continue
		}
		take(s, d.fitting(s.cands, perSlot*1.3, chosen))
	}
	limit := target + target*8/100
	budget := float64(target - overhead)
	for total < target {
		bestSlot, bestCand, bestDeficit := -1, -1, math.Inf(-1)
		for n := range slots {
			s := &slots[n]
			if s.most > 0 && len(s.chosen) >= s.most {
				continue
			}
			c := d.bestFor(s, chosen, limit-total)
			if c < 0 {
				continue
			}
			used := 0
			for _, i := range s.chosen {
				used += d.sents[i].words
			}
			deficit := (s.share*budget - float64(used)) / math.Max(s.share, 0.01)
			if deficit > bestDeficit {
				bestSlot, bestCand, bestDeficit = n, c, deficit
			}
		}
		if bestSlot < 0 {
			break
		}
		take(&slots[bestSlot], bestCand)
	}
	for n := range slots {
		slices.Sort(slots[n].chosen)
	}
}

// fitting is the best-scoring of the top candidates no longer than words,
// else the shortest of them.
func (d *doc) fitting(cands []int, words float64, chosen []bool) int {
	weight := func(i int) float64 {
		if dependent(&d.sents[i]) && (i == 0 || !chosen[i-1]) {
			return d.sents[i].score * 0.5
		}
		return d.sents[i].score
	}
	top := slices.Clone(cands)
	slices.SortStableFunc(top, func(a, b int) int {
		switch sa, sb := weight(a), weight(b); {
		case sa > sb:
			return -1
		case sa < sb:
			return 1
		}
		return a - b
	})
	top = slices.DeleteFunc(top, func(i int) bool { return chosen[i] })
	top = top[:min(6, len(top))]
	shortest := top[0]
	for _, i := range top {
		if float64(d.sents[i].words) <= words {
			return i
		}
		if d.sents[i].words < d.sents[shortest].words {
			shortest = i
		}
	}
	return shortest
}

// bestFor is the best unchosen candidate of s of at most room words, -1 if
// none. A sentence that leans on the one before it ("This means...") counts
// for less unless that one is chosen too.
func (d *doc) bestFor(s *slot, chosen []bool, room int) int {
	best, bestV := -1, math.Inf(-1)
	for _, i := range s.cands {
		if chosen[i] || d.sents[i].words > room {
			continue
		}
		v := d.sents[i].score
		if dependent(&d.sents[i]) && (i == 0 || !chosen[i-1]) {
			v *= 0.5
		}
		if v > bestV {
			best, bestV = i, v
		}
	}
	return best
}

// headingTopic is a heading as it reads inside a sentence: "Code review"
// -> "code review"; acronyms and CamelCase names ("GitHub") keep their
// capitals.
func headingTopic(h string) string {
	first, _, _ := strings.Cut(h, " ")
	r, size := utf8.DecodeRuneInString(first)
	if isAcronym(first) || strings.IndexFunc(first[size:], unicode.IsUpper) >= 0 {
		return h
	}
	return string(unicode.ToLower(r)) + h[size:]
}

// shortTopics keeps the first topic of each "x and y" label, without
// repeats, at most n.
func shortTopics(labels []string, n int) []string {
	var out []string
	for _, l := range labels {
		first, _, _ := strings.Cut(l, " and ")
		if first == "" || slices.ContainsFunc(out, func(s string) bool { return strings.EqualFold(s, first) }) {
			continue
		}
		if out = append(out, first); len(out) == n {
			break
		}
	}
	return out
}

package localai

import (
	"math"
	"slices"
	"strings"
)

// summaryLength is the number of sentences of each length, and the share
// of a short document's sentences it takes instead when that is fewer.
var summaryLength = map[string]struct {
	sentences int
	share     float64
}{
	"short":  {3, 0.34},
	"medium": {6, 0.5},
	"long":   {10, 0.7},
}

// summaryCount is how many sentences a summary of d takes.
func summaryCount(d *doc, length string) int {
	l, ok := summaryLength[length]
	if !ok {
		l = summaryLength["medium"]
	}
	byShare := int(math.Round(float64(len(d.sents)) * l.share))
	return max(1, min(l.sentences, byShare, len(d.sents)))
}

// summarize picks the document's most central, least redundant sentences
// and shows them in document order: as one paragraph, as bullets, or as an
// outline under the document's own headings (or topic headings when it has
// none).
func summarize(d *doc, p params) output {
	k := summaryCount(d, p.str("length"))
	var text string
	switch p.str("style") {
	case "paragraph":
		ids := d.pick(d.all(), k, nil, nil, nil)
		slices.Sort(ids)
		text = d.joinSentences(ids)
	case "outline":
		text = outline(d, k)
	default:
		ids := d.pick(d.all(), k, nil, nil, nil)
		slices.Sort(ids)
		text = d.bullets(ids)
	}
	return singlePart("Summary", text)
}

// joinSentences renders sentences as one paragraph.
func (d *doc) joinSentences(ids []int) string {
	var b strings.Builder
	for n, i := range ids {
		if n > 0 && !endsCJK(d.sents[ids[n-1]].text) {
			b.WriteByte(' ')
		}
		b.WriteString(d.sents[i].text)
	}
	return b.String()
}

func endsCJK(s string) bool {
	return strings.HasSuffix(s, "。") || strings.HasSuffix(s, "！") || strings.HasSuffix(s, "？")
}

// bullets renders sentences as a Markdown list.
func (d *doc) bullets(ids []int) string {
	var b strings.Builder
	for n, i := range ids {
		if n > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("- ")
		b.WriteString(d.sents[i].text)
	}
	return b.String()
}

// paragraphs renders sentences (in document order) as paragraphs, keeping
// sentences of one source paragraph together, at most four to a paragraph.
func (d *doc) paragraphs(ids []int) string {
	var b strings.Builder
	run := 0
	for n, i := range ids {
		if n > 0 {
			prev := ids[n-1]
			if d.sents[prev].para != d.sents[i].para || run >= 4 {
				b.WriteString("\n\n")
				run = 0
			} else if !endsCJK(d.sents[prev].text) {
				b.WriteByte(' ')
			}
		}
		b.WriteString(d.sents[i].text)
		run++
	}
	return b.String()
}

// group is a run of sentences under a heading.
type group struct {
	heading string
	ids     []int
}

// headedGroups returns the document's own sections ("Overview" for text
// before the first heading).
func (d *doc) headedGroups() []group {
	var out []group
	for _, s := range d.secs {
		if s.hi <= s.lo {
			continue
		}
		h := s.heading
		if h == "" {
			h = "Overview"
		}
		ids := make([]int, 0, s.hi-s.lo)
		for i := s.lo; i < s.hi; i++ {
			ids = append(ids, i)
		}
		out = append(out, group{heading: h, ids: ids})
	}
	return out
}

// topicGroups segments pool into n topic groups headed by their labels.
func (d *doc) topicGroups(pool []int, n int, fallback string) []group {
	avoid := map[string]bool{}
	var out []group
	for _, seg := range d.segment(pool, n) {
		h := d.label(seg, avoid)
		if h == "" {
			h = fallback
		}
		out = append(out, group{heading: capitalize(h), ids: seg})
	}
	return out
}

// quotaPick chooses k sentences across groups: first the best of each group
// (best groups first), then the best remaining overall, favouring groups
// with fewer picks. It returns the picks of each group in document order.
func (d *doc) quotaPick(groups []group, k int) [][]int {
	picks := make([][]int, len(groups))
	skip := make([]bool, len(d.sents))
	var chosen []int
	type best struct{ g, i int }
	var firsts []best
	for g, gr := range groups {
		if top := d.pick(gr.ids, 1, nil, nil, nil); len(top) == 1 {
			firsts = append(firsts, best{g, top[0]})
		}
	}
	slices.SortStableFunc(firsts, func(a, b best) int {
		sa, sb := d.sents[a.i].score, d.sents[b.i].score
		switch {
		case sa > sb:
			return -1
		case sa < sb:
			return 1
		}
		return a.i - b.i
	})
	for _, f := range firsts {
		if len(chosen) >= k {
			break
		}
		picks[f.g] = append(picks[f.g], f.i)
		skip[f.i] = true
		chosen = append(chosen, f.i)
	}
	groupOf := make([]int, len(d.sents))
	var pool []int
	for g, gr := range groups {
		if len(picks[g]) == 0 {
			continue // a group that didn't make the cut stays out
		}
		for _, i := range gr.ids {
			groupOf[i] = g
			pool = append(pool, i)
		}
	}
	for len(chosen) < k {
		next := d.pick(pool, 1, skip, chosen, func(i int) float64 {
			return d.sents[i].score / (1 + 0.35*float64(len(picks[groupOf[i]])))
		})
		if len(next) == 0 {
			break
		}
		i := next[0]
		picks[groupOf[i]] = append(picks[groupOf[i]], i)
		skip[i] = true
		chosen = append(chosen, i)
	}
	for g := range picks {
		slices.Sort(picks[g])
	}
	return picks
}

// outline renders k sentences grouped under "## " headings.
func outline(d *doc, k int) string {
	var groups []group
	if d.headed {
		groups = d.headedGroups()
	} else {
		n := 2
		switch {
		case k > 6:
			n = 4
		case k > 3:
			n = 3
		}
		if k == 1 {
			n = 1
		}
		groups = d.topicGroups(d.all(), n, "Key points")
	}
	picks := d.quotaPick(groups, k)
	if !d.headed { // name each topic group after the points it shows
		avoid := map[string]bool{}
		for g, ids := range picks {
			if lbl := d.label(ids, avoid); lbl != "" && len(ids) > 0 {
				groups[g].heading = capitalize(lbl)
			}
		}
	}
	var b strings.Builder
	for g, ids := range picks {
		if len(ids) == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString("## ")
		b.WriteString(groups[g].heading)
		b.WriteString("\n\n")
		b.WriteString(d.bullets(ids))
	}
	return b.String()
}

package localai

import (
	"context"
	"math"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file builds the model of a document every generator works from:
// sentences with their place (paragraph, section) and a TF-IDF vector,
// a score per sentence, key terms and key phrases. Everything is computed
// in slices indexed by sentence or term id and every sort breaks ties on
// the index, so the same input always gives the same output.

// sentence is one sentence of the document.
type sentence struct {
	text  string
	para  int
	sec   int
	words int
	vec   []termWeight // sorted by id
	norm  float64
	score float64
	list  bool // from a list item or table row
	first bool // first sentence of its paragraph
	toks  []token
}

type termWeight struct {
	id int32
	w  float64
}

// section is a run of sentences under one heading ("" before the first).
type section struct {
	heading string
	lo, hi  int // sentence range [lo, hi)
}

type termInfo struct {
	stem    string
	display string
	tf, df  int
	idf     float64
	weight  float64
	cjk     bool
	forms   []formCount
}

// showable reports whether a term can be shown as a topic, label or
// hashtag: a word of three letters or more, or a CJK bigram seen at least
// twice (a single one is as likely to straddle two words).
func (t *termInfo) showable() bool {
	if t.cjk {
		return t.tf >= 2
	}
	return hasLetter(t.stem) && utf8.RuneCountInString(t.stem) >= 3
}

// phrase is a recurring run of two or three content words.
type phrase struct {
	key     string // stems joined by spaces
	display string
	ids     []int32
	count   int
	score   float64
}

// doc is an analysed document.
type doc struct {
	title    string
	sents    []sentence
	secs     []section
	paras    int
	terms    []termInfo
	keyTerms []int32 // by weight, best first
	phrases  []phrase
	headed   bool // the document is organised under two or more headings
}

// emptyDocSentence stands in for a document with no text, so every
// generator still has one sentence to work from.
const emptyDocSentence = "This document has no text yet."

// analyze parses and scores a document. It checks ctx between stages and
// every few thousand sentences.
func analyze(ctx context.Context, title, text string) (*doc, error) {
	d := &doc{title: cleanTitle(title)}
	blocks := parseBlocks(text)
	if d.title == "" && len(blocks) > 0 && blocks[0].heading && blocks[0].level == 1 {
		d.title = blocks[0].text
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	d.secs = append(d.secs, section{})
	stems := map[string]int32{}
	var buf []token
	para := -1
	for bi, b := range blocks {
		if b.heading {
			if bi == 0 && strings.EqualFold(b.text, d.title) {
				continue // the title repeated as the first line
			}
			d.secs[len(d.secs)-1].hi = len(d.sents)
			d.secs = append(d.secs, section{heading: b.text, lo: len(d.sents)})
			continue
		}
		para++
		for k, s := range splitSentences(b.text) {
			if !hasWordRune(s) {
				continue
			}
			buf = tokenize(s, buf)
			toks := slices.Clone(buf)
			sn := sentence{text: s, para: para, sec: len(d.secs) - 1,
				words: countWords(s), list: b.list, first: k == 0, toks: toks}
			d.addTerms(&sn, stems)
			d.sents = append(d.sents, sn)
			if len(d.sents)%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
		}
	}
	d.secs[len(d.secs)-1].hi = len(d.sents)
	d.paras = para + 1

	if len(d.sents) == 0 {
		s := d.title
		if s == "" {
			s = emptyDocSentence
		}
		buf = tokenize(s, buf)
		sn := sentence{text: s, words: countWords(s), first: true, toks: slices.Clone(buf)}
		d.addTerms(&sn, stems)
		d.sents = append(d.sents, sn)
		d.secs = []section{{lo: 0, hi: 1}}
		d.paras = 1
	}
	headed := 0
	for _, s := range d.secs {
		if s.heading != "" && s.hi > s.lo {
			headed++
		}
	}
	d.headed = headed >= 2

	d.displayForms()
	d.weigh()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.score()
	d.findPhrases()
	return d, ctx.Err()
}

// formCount is how often a term is written one way.
type formCount struct {
	form string
	n    int
}

// addTerms counts the content tokens of s into the term table and gives s
// its raw term frequencies (turned into weights by weigh).
func (d *doc) addTerms(s *sentence, stems map[string]int32) {
	s.vec = make([]termWeight, 0, len(s.toks))
	for k := range s.toks {
		t := &s.toks[k]
		t.id = -1
		if t.stop || (!t.cjk && utf8.RuneCountInString(t.lower) < 2) {
			continue
		}
		id, ok := stems[t.stem]
		if !ok {
			id = int32(len(d.terms))
			stems[t.stem] = id
			d.terms = append(d.terms, termInfo{stem: t.stem, cjk: t.cjk})
		}
		t.id = id
		ti := &d.terms[id]
		ti.tf++
		form := displayForm(*t, k == 0)
		found := false
		for f := range ti.forms {
			if ti.forms[f].form == form {
				ti.forms[f].n++
				found = true
				break
			}
		}
		if !found && len(ti.forms) < 8 {
			ti.forms = append(ti.forms, formCount{form, 1})
		}
		s.vec = append(s.vec, termWeight{id: id, w: 1})
	}
	slices.SortFunc(s.vec, func(a, b termWeight) int { return int(a.id - b.id) })
	// Merge duplicates into counts.
	out := s.vec[:0]
	for _, tw := range s.vec {
		if n := len(out); n > 0 && out[n-1].id == tw.id {
			out[n-1].w++
			continue
		}
		out = append(out, tw)
	}
	s.vec = out
	for _, tw := range s.vec {
		d.terms[tw.id].df++
	}
}

// displayForm is how a token is shown as a key term: lower case unless it
// is capitalised where capitals aren't required (a name or an acronym).
func displayForm(t token, sentenceStart bool) string {
	if t.surface == t.lower {
		return t.lower
	}
	if isAcronym(t.surface) || !sentenceStart {
		return t.surface
	}
	return t.lower
}

func isAcronym(s string) bool {
	upper := 0
	for _, r := range s {
		if unicode.IsLower(r) {
			return false
		}
		if unicode.IsUpper(r) {
			upper++
		}
	}
	return upper >= 2
}

func (d *doc) displayForms() {
	for i := range d.terms {
		t := &d.terms[i]
		best := 0
		for f, fc := range t.forms {
			if fc.n > t.forms[best].n || (fc.n == t.forms[best].n && fc.form < t.forms[best].form) {
				best = f
			}
		}
		t.display = t.forms[best].form
		// A plural reads better on its own ("about distributed teams").
		if !verbPlurals[t.display] {
			for _, fc := range t.forms {
				if fc.form == t.display+"s" {
					t.display = fc.form
				}
			}
		}
	}
}

// weigh computes idf, sentence vectors and key-term weights.
func (d *doc) weigh() {
	n := float64(len(d.sents))
	titleStems := map[string]bool{}
	for _, t := range tokenize(d.title, nil) {
		titleStems[t.stem] = true
	}
	headingStems := map[string]bool{}
	for _, s := range d.secs {
		for _, t := range tokenize(s.heading, nil) {
			headingStems[t.stem] = true
		}
	}
	for i := range d.terms {
		t := &d.terms[i]
		t.idf = math.Log(1 + n/float64(t.df))
		t.weight = float64(t.tf) * t.idf
		if titleStems[t.stem] {
			t.weight *= 2
		} else if headingStems[t.stem] {
			t.weight *= 1.5
		}
		if !t.cjk && utf8.RuneCountInString(t.stem) < 3 {
			t.weight *= 0.3
		}
		if genericStems[t.stem] {
			t.weight *= 0.45
		}
	}
	for i := range d.sents {
		s := &d.sents[i]
		var sum float64
		for k := range s.vec {
			tw := &s.vec[k]
			tw.w = (1 + math.Log(tw.w)) * d.terms[tw.id].idf
			sum += tw.w * tw.w
		}
		s.norm = math.Sqrt(sum)
	}
	d.keyTerms = make([]int32, 0, len(d.terms))
	for i := range d.terms {
		if hasLetter(d.terms[i].stem) {
			d.keyTerms = append(d.keyTerms, int32(i))
		}
	}
	slices.SortFunc(d.keyTerms, func(a, b int32) int {
		ta, tb := &d.terms[a], &d.terms[b]
		switch {
		case ta.weight > tb.weight:
			return -1
		case ta.weight < tb.weight:
			return 1
		}
		return strings.Compare(ta.stem, tb.stem)
	})
}

// score rates each sentence by its similarity to the document's centroid
// (the top terms weighted by TF-IDF), with small bonuses for leading
// positions and title words and penalties for fragments and run-ons.
func (d *doc) score() {
	top := min(len(d.keyTerms), 30)
	centroid := make(map[int32]float64, top)
	var cnorm float64
	for _, id := range d.keyTerms[:top] {
		w := d.terms[id].weight
		centroid[id] = w
		cnorm += w * w
	}
	cnorm = math.Sqrt(cnorm)
	titleStems := map[string]bool{}
	for _, t := range tokenize(d.title, nil) {
		if !t.stop {
			titleStems[t.stem] = true
		}
	}
	// Salience: the key-term weight a sentence carries for its length, so
	// a sentence about a topic the centroid doesn't reach still ranks.
	salience := make([]float64, len(d.sents))
	maxSal := 0.0
	for i := range d.sents {
		s := &d.sents[i]
		var sum float64
		for _, tw := range s.vec {
			sum += d.terms[tw.id].weight
		}
		salience[i] = sum / math.Sqrt(float64(max(s.words, 1))+4)
		maxSal = max(maxSal, salience[i])
	}
	lastPara := d.sents[len(d.sents)-1].para
	for i := range d.sents {
		s := &d.sents[i]
		var dot float64
		titleHits := 0
		for _, tw := range s.vec {
			dot += tw.w * centroid[tw.id]
			if titleStems[d.terms[tw.id].stem] {
				titleHits++
			}
		}
		sc := 0.0
		if s.norm > 0 && cnorm > 0 {
			sc = 0.65 * dot / (s.norm * cnorm)
		}
		if maxSal > 0 {
			sc += 0.35 * salience[i] / maxSal
		}
		if i == 0 {
			sc += 0.12
		}
		if d.secs[s.sec].lo == i && s.sec > 0 {
			sc += 0.06
		}
		if s.first {
			sc += 0.03
		}
		if s.para == lastPara && d.paras > 2 {
			sc += 0.04
		}
		if len(titleStems) > 0 {
			sc += 0.08 * float64(min(titleHits, len(titleStems))) / float64(len(titleStems))
		}
		switch {
		case s.words < 5:
			sc *= 0.4
		case s.words < 9:
			sc *= 0.75
		case s.words > 70:
			sc *= 0.5
		case s.words > 45:
			sc *= 0.8
		}
		last, _ := utf8.DecodeLastRuneInString(s.text)
		switch last {
		case '?':
			sc *= 0.8
		case ':':
			sc *= 0.5
		case '.', '!', '"', '”', ')', '…', '。', '！', '？', '\'', '’':
		default:
			sc *= 0.85 // a fragment without closing punctuation
		}
		if s.list {
			sc *= 0.9
		}
		if dependent(s) {
			sc *= 0.85 // "It demands...": weaker out of context
		}
		s.score = sc
	}
}

// findPhrases collects runs of two or three content words that recur.
func (d *doc) findPhrases() {
	type occurrence struct{ sent, tok int32 }
	type acc struct {
		count int
		at    []occurrence
	}
	found := map[[3]int32]*acc{}
	var keys [][3]int32
	for si := range d.sents {
		toks := d.sents[si].toks
		for i := range toks {
			key := [3]int32{-1, -1, -1}
			for n := 0; n < 3 && i+n < len(toks); n++ {
				t := &toks[i+n]
				if t.id < 0 || t.cjk || (n > 0 && t.breakBefore) {
					break
				}
				key[n] = t.id
				if n == 0 {
					continue
				}
				a := found[key]
				if a == nil {
					a = &acc{}
					found[key] = a
					keys = append(keys, key)
				}
				a.count++
				if len(a.at) < 8 {
					a.at = append(a.at, occurrence{int32(si), int32(i)})
				}
			}
		}
	}
	minCount := 2
	if len(d.sents) >= 40 {
		minCount = 3 // in a long document, twice is a coincidence
	}
	for _, key := range keys {
		a := found[key]
		if a.count < minCount {
			continue
		}
		ids := key[:2]
		if key[2] >= 0 {
			ids = key[:3]
		}
		ids = slices.Clone(ids)
		if ids[0] == ids[1] || (len(ids) == 3 && ids[1] == ids[2]) {
			continue // "very very"
		}
		var w float64
		minTF := d.terms[ids[0]].tf
		stems := make([]string, len(ids))
		for k, id := range ids {
			w += d.terms[id].weight
			minTF = min(minTF, d.terms[id].tf)
			stems[k] = d.terms[id].stem
		}
		// Cohesion: how often the words occur together rather than apart
		// ("remote work" high, "engineers work" low).
		cohesion := float64(a.count) / float64(max(minTF, 1))
		if cohesion < 0.2 {
			continue
		}
		if last := d.terms[ids[len(ids)-1]].display; !nounLike(last) {
			cohesion *= 0.3 // "teams struggled": a phrase should end on a noun
		}
		// Show the phrase as it is most often written.
		forms := map[string]int{}
		for _, o := range a.at {
			toks := d.sents[o.sent].toks[o.tok : int(o.tok)+len(ids)]
			parts := make([]string, len(toks))
			for k := range toks {
				parts[k] = displayForm(toks[k], o.tok == 0 && k == 0)
			}
			forms[strings.Join(parts, " ")]++
		}
		best, bestN := "", 0
		for f, n := range forms {
			if n > bestN || (n == bestN && f < best) {
				best, bestN = f, n
			}
		}
		if lastWord := best[strings.LastIndexByte(best, ' ')+1:]; forms[best+"s"] > 0 && !verbPlurals[lastWord] {
			best += "s" // a plural reads better on its own
		}
		d.phrases = append(d.phrases, phrase{key: strings.Join(stems, " "), display: best, ids: ids, count: a.count,
			score: float64(a.count) * w / float64(len(ids)) * cohesion})
	}
	slices.SortFunc(d.phrases, func(a, b phrase) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return strings.Compare(a.key, b.key)
	})
}

// cosine is the similarity of two sentences' TF-IDF vectors.
func (d *doc) cosine(a, b int) float64 {
	sa, sb := &d.sents[a], &d.sents[b]
	if sa.norm == 0 || sb.norm == 0 {
		return 0
	}
	return dotSparse(sa.vec, sb.vec) / (sa.norm * sb.norm)
}

func dotSparse(a, b []termWeight) float64 {
	var dot float64
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i].id < b[j].id:
			i++
		case a[i].id > b[j].id:
			j++
		default:
			dot += a[i].w * b[j].w
			i++
			j++
		}
	}
	return dot
}

// pick chooses up to k sentences of pool by maximal marginal relevance:
// high weight (the sentence score when weight is nil), low similarity to
// those already chosen and to prior. Sentences in skip are passed over.
// The result is in choice order, best first.
func (d *doc) pick(pool []int, k int, skip []bool, prior []int, weight func(i int) float64) []int {
	if weight == nil {
		weight = func(i int) float64 { return d.sents[i].score }
	}
	var chosen []int
	taken := map[int]bool{}
	for len(chosen) < k {
		best, bestV := -1, math.Inf(-1)
		for _, i := range pool {
			if taken[i] || (skip != nil && skip[i]) {
				continue
			}
			v := weight(i)
			maxSim := 0.0
			for _, c := range chosen {
				if sim := d.cosine(i, c); sim > maxSim {
					maxSim = sim
				}
			}
			for _, c := range prior {
				if sim := d.cosine(i, c); sim > maxSim {
					maxSim = sim
				}
			}
			v = 0.7*v - 0.3*maxSim*0.5
			if maxSim > 0.6 {
				v -= 1 // near duplicate
			}
			if v > bestV {
				best, bestV = i, v
			}
		}
		if best < 0 {
			break
		}
		taken[best] = true
		chosen = append(chosen, best)
	}
	return chosen
}

// all returns every sentence index in document order.
func (d *doc) all() []int {
	out := make([]int, len(d.sents))
	for i := range out {
		out[i] = i
	}
	return out
}

// segment splits pool (sentence indices in document order) into at most k
// contiguous groups, cutting at paragraph breaks where the vocabulary
// changes most, and keeping the groups of similar size.
func (d *doc) segment(pool []int, k int) [][]int {
	if k <= 1 || len(pool) <= 1 {
		if len(pool) == 0 {
			return nil
		}
		return [][]int{pool}
	}
	// Units: runs of the pool within one paragraph; sentences when there
	// are too few paragraphs.
	var units [][]int
	for _, i := range pool {
		n := len(units)
		if n > 0 {
			prev := units[n-1][len(units[n-1])-1]
			if prev == i-1 && d.sents[prev].para == d.sents[i].para {
				units[n-1] = append(units[n-1], i)
				continue
			}
		}
		units = append(units, []int{i})
	}
	if len(units) < k {
		units = units[:0]
		for _, i := range pool {
			units = append(units, []int{i})
		}
	}
	k = min(k, len(units))
	// Cumulative words at each gap and the similarity across it.
	total := 0
	for _, i := range pool {
		total += max(d.sents[i].words, 1)
	}
	gapPos := make([]int, len(units)-1)
	gapSim := make([]float64, len(units)-1)
	flat := make([]int, 0, len(pool))
	unitEnd := make([]int, len(units))
	pos := 0
	for u, unit := range units {
		for _, i := range unit {
			pos += max(d.sents[i].words, 1)
		}
		flat = append(flat, unit...)
		unitEnd[u] = len(flat)
		if u < len(units)-1 {
			gapPos[u] = pos
		}
	}
	for g := range gapSim {
		at := unitEnd[g]
		gapSim[g] = d.windowSim(flat[max(0, at-3):at], flat[at:min(len(flat), at+3)])
	}
	cuts := make([]int, 0, k-1)
	prev := -1
	seg := float64(total) / float64(k)
	for m := 1; m < k; m++ {
		ideal := seg * float64(m)
		best, bestV := -1, math.Inf(1)
		lastAllowed := len(gapPos) - (k - 1 - m) - 1
		for g := prev + 1; g <= lastAllowed; g++ {
			off := math.Abs(float64(gapPos[g])-ideal) / seg
			if off > 0.4 {
				continue
			}
			v := gapSim[g] + 0.5*off
			if v < bestV {
				best, bestV = g, v
			}
		}
		if best < 0 { // no gap near the ideal: take the nearest allowed one
			bestOff := math.Inf(1)
			for g := prev + 1; g <= lastAllowed; g++ {
				if off := math.Abs(float64(gapPos[g]) - ideal); off < bestOff {
					best, bestOff = g, off
				}
			}
		}
		if best < 0 {
			break
		}
		cuts = append(cuts, best)
		prev = best
	}
	var out [][]int
	start := 0
	for _, c := range cuts {
		out = append(out, flat[start:unitEnd[c]])
		start = unitEnd[c]
	}
	out = append(out, flat[start:])
	return out
}

// windowSim is the cosine similarity of the summed vectors of two runs of
// sentences. Sums run in term order, so the result doesn't depend on map
// iteration.
func (d *doc) windowSim(a, b []int) float64 {
	va, vb := d.sumVec(a), d.sumVec(b)
	na, nb := dotSparse(va, va), dotSparse(vb, vb)
	if na == 0 || nb == 0 {
		return 0
	}
	return dotSparse(va, vb) / math.Sqrt(na*nb)
}

// sumVec adds the vectors of sentences ids.
func (d *doc) sumVec(ids []int) []termWeight {
	var sum []termWeight
	for _, i := range ids {
		v := d.sents[i].vec
		out := make([]termWeight, 0, len(sum)+len(v))
		x, y := 0, 0
		for x < len(sum) || y < len(v) {
			switch {
			case y == len(v) || (x < len(sum) && sum[x].id < v[y].id):
				out = append(out, sum[x])
				x++
			case x == len(sum) || v[y].id < sum[x].id:
				out = append(out, v[y])
				y++
			default:
				out = append(out, termWeight{sum[x].id, sum[x].w + v[y].w})
				x++
				y++
			}
		}
		sum = out
	}
	return sum
}

// label names a group of sentences: its most characteristic recurring
// phrase, or its two most characteristic terms, as they are written in
// running text (capitalize it for a heading). Labels whose
// stems are in avoid are passed over; the chosen stems are added to it.
func (d *doc) label(group []int, avoid map[string]bool) string {
	local := map[int32]int{}
	for _, i := range group {
		for _, tw := range d.sents[i].vec {
			local[tw.id]++
		}
	}
	// Phrases present in the group, scored by local presence.
	bestP, bestPV := -1, 0.0
	for pi := range d.phrases {
		p := &d.phrases[pi]
		if avoid[p.key] || len(p.ids) > 3 || !phraseLabelOK(p.display) {
			continue
		}
		n := d.phraseCount(p, group)
		if n < 1 {
			continue
		}
		v := float64(n) * p.score
		if n < 2 && len(group) > 3 {
			v *= 0.3
		}
		if v > bestPV {
			bestP, bestPV = pi, v
		}
	}
	type cand struct {
		id int32
		v  float64
	}
	var cands []cand
	for id, n := range local {
		t := &d.terms[id]
		if avoid[t.stem] || !t.showable() {
			continue
		}
		v := float64(n) * t.idf * math.Sqrt(t.weight)
		if !nounLike(t.display) || genericStems[t.stem] {
			v *= 0.3
		}
		cands = append(cands, cand{id, v})
	}
	sort.Slice(cands, func(a, b int) bool {
		if cands[a].v != cands[b].v {
			return cands[a].v > cands[b].v
		}
		return cands[a].id < cands[b].id
	})
	if bestP >= 0 && (len(cands) == 0 || bestPV >= cands[0].v*0.5) {
		p := &d.phrases[bestP]
		avoid[p.key] = true
		for _, id := range p.ids {
			avoid[d.terms[id].stem] = true
		}
		return asTopic(p.display)
	}
	switch {
	case len(cands) == 0:
		return ""
	case len(cands) == 1:
		avoid[d.terms[cands[0].id].stem] = true
		return asTopic(d.terms[cands[0].id].display)
	}
	a, b := d.terms[cands[0].id], d.terms[cands[1].id]
	if a.cjk && sharesRune(a.stem, b.stem) {
		// Overlapping bigrams of one word ("远程", "程工"): one is enough.
		avoid[a.stem] = true
		return asTopic(a.display)
	}
	avoid[a.stem], avoid[b.stem] = true, true
	return asTopic(a.display) + " and " + asTopic(b.display)
}

func phraseLabelOK(s string) bool { return utf8.RuneCountInString(s) <= 40 }

// phraseCount counts the sentences of group that contain every term of p.
func (d *doc) phraseCount(p *phrase, group []int) int {
	n := 0
	for _, i := range group {
		if d.hasTerms(i, p.ids) {
			n++
		}
	}
	return n
}

func (d *doc) hasTerms(i int, ids []int32) bool {
	vec := d.sents[i].vec
	for _, id := range ids {
		k := sort.Search(len(vec), func(j int) bool { return vec[j].id >= id })
		if k == len(vec) || vec[k].id != id {
			return false
		}
	}
	return true
}

// topic is the key term (or phrase) a sentence is most about, for hooks
// and subjects; the document's top term when the sentence has none.
func (d *doc) topic(i int) string {
	for pi := range d.phrases {
		if pi >= 15 {
			break
		}
		if d.hasTerms(i, d.phrases[pi].ids) {
			return asTopic(d.phrases[pi].display)
		}
	}
	best, bestW := int32(-1), 0.0
	for _, tw := range d.sents[i].vec {
		t := &d.terms[tw.id]
		if !t.showable() {
			continue
		}
		w := t.weight
		if !nounLike(t.display) {
			w *= 0.3
		}
		if w > bestW || (w == bestW && best >= 0 && t.stem < d.terms[best].stem) {
			best, bestW = tw.id, w
		}
	}
	if best >= 0 {
		return asTopic(d.terms[best].display)
	}
	return d.mainTopic()
}

// mainTopic is what the whole document is about: its top phrase or term,
// else its title, else "this topic".
func (d *doc) mainTopic() string {
	if len(d.phrases) > 0 {
		return asTopic(d.phrases[0].display)
	}
	if len(d.keyTerms) > 0 {
		return asTopic(d.terms[d.keyTerms[0]].display)
	}
	if d.title != "" {
		return d.title
	}
	return "this topic"
}

// topTopics returns up to n distinct key phrases or terms of the document.
func (d *doc) topTopics(n int) []string {
	var out []string
	used := map[string]bool{}
	for _, p := range d.phrases {
		if len(out) >= n {
			return out
		}
		if used[p.key] || len(p.ids) > 2 {
			continue
		}
		overlap := false
		for _, id := range p.ids {
			if used[d.terms[id].stem] {
				overlap = true
			}
		}
		if overlap {
			continue
		}
		used[p.key] = true
		for _, id := range p.ids {
			used[d.terms[id].stem] = true
		}
		out = append(out, asTopic(p.display))
	}
	for _, id := range d.keyTerms {
		if len(out) >= n {
			break
		}
		t := &d.terms[id]
		if used[t.stem] || !t.showable() {
			continue
		}
		used[t.stem] = true
		out = append(out, asTopic(t.display))
	}
	return out
}

// cleanTitle turns a document title (possibly a file name) into a title.
func cleanTitle(t string) string {
	t = strings.TrimSpace(normalizeText(t))
	if i := strings.LastIndexByte(t, '.'); i > 0 && !strings.Contains(t[i:], " ") {
		switch strings.ToLower(t[i+1:]) {
		case "txt", "md", "markdown", "html", "htm", "docx", "pdf", "doc", "rtf":
			t = t[:i]
		}
	}
	if !strings.Contains(t, " ") && strings.ContainsAny(t, "_-") {
		t = strings.NewReplacer("_", " ", "-", " ").Replace(t)
	}
	t = strings.Join(strings.Fields(cleanInline(t)), " ")
	if utf8.RuneCountInString(t) > 150 {
		t = trimToRunes(t, 150)
	}
	return capitalize(t)
}

// capitalize upper-cases the first letter of s.
func capitalize(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError || !unicode.IsLower(r) {
		return s
	}
	return string(unicode.ToUpper(r)) + s[size:]
}

// sharesRune reports whether a and b have a character in common.
func sharesRune(a, b string) bool {
	for _, r := range a {
		if strings.ContainsRune(b, r) {
			return true
		}
	}
	return false
}

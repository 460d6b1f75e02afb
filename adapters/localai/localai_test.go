package localai

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/core/transform"
	"github.com/repurpose/repurpose/ports"
)

// article is a realistic ~1,500-word source document: plain paragraphs
// with abbreviations ("Dr."), decimals ("3.5"), a quotation and numbers.
const article = `When our company sent everyone home in March 2020, most of us assumed remote work would last a few weeks. Three years later, our 240-person engineering organization is still fully distributed, and productivity by almost every measure we track is higher than it was in the office. This article describes what worked, what failed, and what we would do differently if we started again tomorrow.

The first lesson was that remote work exposes weak processes rather than creating new problems. In the office, a confused engineer could lean over a desk and ask a colleague for help. At home, that same confusion turned into a silent day of wasted effort. Dr. Maria Chen, who leads our platform group, put it bluntly: "Remote work didn't break our onboarding. It showed us that we never had onboarding in the first place." We spent the first six months rebuilding processes that had quietly depended on proximity.

Documentation became the backbone of that rebuild. We adopted a simple rule: if a decision is not written down, it was not made. Every project now starts with a short design document that states the problem, the options considered, and the reasons for the final choice. These documents live in a shared wiki, and anyone in the company can comment on them. The result is a searchable history of why our systems look the way they do, which has cut the time new hires need to ship their first change from five weeks to about eight days.

Writing became the most important skill in the company. In a distributed team, most work is communicated in text, and unclear writing costs everyone time. We now run a short internal workshop on writing design documents, and senior engineers review drafts for clarity as carefully as they review code.

Asynchronous communication was the second major shift. In the early months we tried to recreate the office on video calls, and the outcome was exhausting. Engineers reported spending 3.5 hours a day in meetings, and our internal survey showed that focus time had dropped by almost half. We responded by declaring two meeting-free days per week and by moving status updates out of meetings entirely. Teams now post written updates in a dedicated channel each Monday and Thursday, and managers read them on their own schedule.

The shift to asynchronous work was not painless. Some engineers felt isolated, and a few teams struggled to make decisions without the quick back-and-forth of a conference room. We learned that asynchronous communication needs clear ownership. Every written proposal now names a single decision maker and a deadline for feedback. When the deadline passes, the owner decides, documents the decision, and moves on. This small change eliminated most of the endless comment threads that had stalled projects in 2021.

Meetings did not disappear, but they changed character. The meetings that survived are the ones that genuinely benefit from real-time conversation: design reviews, incident retrospectives, and one-on-ones. Each meeting has a written agenda shared at least a day in advance, and notes are posted within an hour. Recording important meetings turned out to be valuable for colleagues in other time zones, who can now follow discussions they could never have attended live.

Time zones are the hardest constraint of a distributed team. Our engineers work from eleven countries across nine time zones, from Vancouver to Bangalore. We found that teams function best when every member shares at least four overlapping working hours with the rest of the team. When a team spans too many time zones, handoffs multiply and small questions take a full day to resolve. We now consider time zone overlap explicitly when forming teams, alongside skills and interests.

Trust turned out to be the foundation for everything else. Early on, a few managers asked for tools that tracked activity on employees' computers. We refused, and in hindsight that was one of our best decisions. Measuring keystrokes tells you nothing about whether good software is being built. Instead, we focus on outcomes: shipped features, reliability of our services, and the quality of code reviews. Engineers who feel trusted take ownership, and ownership is what makes a distributed team productive.

Culture was the area where we made the most mistakes. We assumed that culture would survive on its own, carried by the people who had built it in the office. It did not. New hires who had never met their colleagues in person felt like contractors rather than members of a team. We tried virtual happy hours, and attendance faded within weeks. What finally worked was smaller and more deliberate: pairing new hires with a buddy for their first three months, running short weekly demos where teams show unfinished work, and meeting in person twice a year.

Those in-person gatherings are expensive, but we consider them essential. Twice a year, each team spends three days together in one city. The agenda is deliberately light on presentations and heavy on planning, problem solving, and shared meals. Engineers consistently rate these weeks as the most valuable part of the year, and we see a measurable rise in cross-team collaboration in the months that follow each gathering.

Onboarding deserves its own mention, because it is where distributed teams most often fail. Our new hires now receive a written onboarding plan before their first day, with a checklist for each of their first four weeks. The plan names a buddy, lists the documents to read, and ends with a small but real task that reaches production. Managers review the checklist with each new hire every Friday. Since introducing the plan, new engineers report feeling productive much sooner, and fewer of them leave during their first year.

Hiring changed more than we expected. Without the constraint of a commuting radius, our candidate pool grew by an order of magnitude. We hired excellent engineers in places where we had never recruited before, including smaller cities in Portugal, Poland, and Brazil. Remote hiring also forced us to make interviews more structured. Every candidate now completes the same practical exercise and is evaluated against a written rubric, which has made our process both fairer and more predictable.

Tooling matters, but less than people think. We use the same kinds of tools as everyone else: a chat application, a video service, a wiki, and an issue tracker. The tools themselves made little difference. What mattered were the conventions around them, such as naming channels consistently, writing clear titles for documents, and agreeing on which tool is the source of truth for each kind of information. A team with good conventions and mediocre tools outperforms a team with excellent tools and no conventions.

Security required a fresh approach as well. With engineers working from home networks, coffee shops, and co-working spaces, the old idea of a trusted office network no longer made sense. We moved to a zero-trust model in which every device and every request is verified, regardless of where it comes from. Laptops are managed centrally, disks are encrypted, and access to production systems requires hardware security keys. The transition took most of 2021, but it left us more secure than we had ever been in the office.

Managers needed new skills. Leading a distributed team means noticing problems that no longer show up as a tired face in the hallway. Our managers now hold regular one-on-ones with a standard set of questions about workload, blockers, and well-being. They also watch for quieter signals, such as a drop in code review activity or shorter written updates, that can indicate burnout. We trained every manager in these practices and made them part of our leadership expectations.

Not everything worked. We experimented with a hybrid model in one office, where half the team came in three days a week. It created two classes of employees: those in the room, who heard decisions first, and those at home, who felt left out. After six months we abandoned the experiment. Our conclusion is that a team should be either fully co-located or fully distributed; mixing the two without great care tends to produce the worst of both.

The numbers tell a consistent story. Since 2020 our deployment frequency has doubled, the average time to resolve incidents has dropped by 40 percent, and voluntary attrition has fallen from 14 percent to 8 percent. Employee surveys show that 87 percent of engineers prefer to continue working remotely. These results are not proof that remote work is right for every company, but they are strong evidence that it can work very well when it is done deliberately.

Looking back, the biggest lesson is that remote work is a skill that organizations must learn, not a perk they can switch on. It demands written communication, explicit decisions, trust in people, and a deliberate investment in culture. Companies that treat it as the office minus the building will struggle. Companies that redesign how they work around documentation, asynchronous communication, and trust will find that distributed teams can outperform the office they left behind.`

const articleTitle = "Remote Work Is Here to Stay: What Three Years of Distributed Teams Taught Us"

// handbook is a Markdown document organised under its own headings.
const handbook = `# Engineering Handbook

This handbook explains how our engineering teams plan, build and ship software. It is a living document, and every engineer is encouraged to improve it.

## Planning

Every quarter starts with a planning week. Teams review customer feedback, estimate the work and agree on three to five goals. Goals are written as outcomes, not tasks, so that teams can change their approach without renegotiating the plan.

## Code review

Every change is reviewed by at least one other engineer before it is merged. Reviews should be completed within one working day. Reviewers focus on correctness, clarity and tests; style questions are left to the automatic formatter.

## Releases

We release to production several times a day. Each release goes through an automated pipeline that runs the tests, builds the artifacts and deploys them gradually. If error rates rise, the pipeline rolls the release back automatically.

## Incidents

When something breaks, the on-call engineer opens an incident channel and becomes the incident commander. After the incident, the team writes a blameless review within five days. The review lists what happened, why it happened and which follow-up actions will prevent it from happening again.
`

// unicodeDoc mixes accented Latin text, CJK text without spaces and very
// long sentences, to stress limits counted in characters.
const unicodeDoc = `Les équipes distribuées de Montréal et de Zürich ont adopté une documentation écrite très détaillée, et les résultats sont remarquables : la productivité a augmenté, les réunions ont diminué, et la qualité du code s’est nettement améliorée pour l’ensemble des développeurs concernés par ce changement organisationnel profond et durable qui touche désormais toutes les équipes de l’entreprise sans exception aucune.

远程工作已经成为许多科技公司的常态。团队成员分布在不同的时区，因此书面沟通变得非常重要。我们发现，清晰的文档和异步沟通可以显著提高工作效率，同时减少不必要的会议。远程工作需要信任、纪律和良好的工具支持，这些因素共同决定了分布式团队的成功与否以及长期的可持续发展能力和员工满意度。

Ça marche très bien: naïve café owners in São Paulo réussissent à coordonner leurs équipes grâce à des outils asynchrones, même quand les fuseaux horaires compliquent énormément la communication quotidienne entre les différents bureaux répartis sur plusieurs continents et cultures différentes 🚀🌍.`

// gen runs a request through a fresh provider with validated parameters.
func gen(t testing.TB, typ transform.Type, title, text string, params map[string]any) ports.AIResult {
	t.Helper()
	res, err := New().Generate(t.Context(), request(t, typ, title, text, params))
	require.NoError(t, err)
	return res
}

func request(t testing.TB, typ transform.Type, title, text string, params map[string]any) ports.AIRequest {
	t.Helper()
	if params == nil {
		params = map[string]any{}
	}
	valid, err := transform.Validate(typ, params, "body.parameters")
	require.NoError(t, err)
	return ports.AIRequest{Type: string(typ), Title: title, Text: text, Parameters: valid}
}

var (
	spaces   = regexp.MustCompile(`\s+`)
	tagLine  = regexp.MustCompile(`^#[\pL\pN\pM]+( #[\pL\pN\pM]+)*$`)
	headings = regexp.MustCompile(`(?m)^## (.+)$`)
)

func normalizeSpace(s string) string { return strings.TrimSpace(spaces.ReplaceAllString(s, " ")) }

// sourceSentences returns the sentences of the document text as the
// package splits them, for checking that output is extractive.
func sourceSentences(text string) map[string]bool {
	out := map[string]bool{}
	for _, b := range parseBlocks(text) {
		if b.heading {
			continue
		}
		for _, s := range splitSentences(b.text) {
			out[s] = true
		}
	}
	return out
}

// sentencesIn returns the source sentences found in s (which may join
// several with spaces or break them across lines).
func sentencesIn(s string, source map[string]bool) []string {
	var found []string
	flat := normalizeSpace(s)
	for sent := range source {
		if strings.Contains(flat, sent) {
			found = append(found, sent)
		}
	}
	return found
}

// lastLine is the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// checkShape asserts the guarantees of API.md and of this provider for any
// request and result; the fuzzer and the table tests share it.
func checkShape(req ports.AIRequest, res ports.AIResult) error {
	if res.Provider != Name || res.Model != Model {
		return fmt.Errorf("provider/model = %q/%q", res.Provider, res.Model)
	}
	if strings.TrimSpace(res.Text) == "" || !utf8.ValidString(res.Text) {
		return fmt.Errorf("text empty or invalid UTF-8: %q", res.Text)
	}
	if res.InputTokens < 0 || res.OutputTokens <= 0 {
		return fmt.Errorf("tokens %d/%d", res.InputTokens, res.OutputTokens)
	}
	for i, p := range res.Parts {
		if strings.TrimSpace(p.Title) == "" || strings.TrimSpace(p.Body) == "" {
			return fmt.Errorf("part %d has an empty title or body: %+v", i, p)
		}
		if !utf8.ValidString(p.Title) || !utf8.ValidString(p.Body) {
			return fmt.Errorf("part %d is not valid UTF-8", i)
		}
	}
	prm := req.Parameters
	switch transform.Type(req.Type) {
	case transform.Summary, transform.BlogPost:
		if len(res.Parts) != 1 || res.Parts[0].Body != res.Text {
			return fmt.Errorf("want one part equal to the text, got %d", len(res.Parts))
		}
		if transform.Type(req.Type) == transform.BlogPost && !strings.HasPrefix(res.Text, "# ") {
			return fmt.Errorf("blog post doesn't start with a title: %q", res.Text)
		}
	case transform.SocialMedia:
		if len(res.Parts) != prm["post_count"].(int) {
			return fmt.Errorf("posts = %d, want %d", len(res.Parts), prm["post_count"])
		}
		limit := map[string]int{"twitter": transform.TwitterLimit, "threads": 500, "instagram": 2200, "linkedin": 3000, "facebook": 2000}[prm["platform"].(string)]
		for i, p := range res.Parts {
			if p.Title != fmt.Sprintf("Post %d", i+1) {
				return fmt.Errorf("post %d title %q", i+1, p.Title)
			}
			if n := utf8.RuneCountInString(p.Body); n > limit {
				return fmt.Errorf("post %d is %d characters, limit %d: %q", i+1, n, limit, p.Body)
			}
			if prm["hashtags"].(bool) {
				last := lastLine(p.Body)
				if !tagLine.MatchString(last) {
					return fmt.Errorf("post %d doesn't end with hashtags: %q", i+1, last)
				}
				if n := len(strings.Fields(last)); n < 2 || n > 5 {
					return fmt.Errorf("post %d has %d hashtags", i+1, n)
				}
			}
		}
	case transform.EmailSequence:
		if len(res.Parts) != prm["email_count"].(int) {
			return fmt.Errorf("emails = %d, want %d", len(res.Parts), prm["email_count"])
		}
		cta := cleanText(prm["call_to_action"].(string))
		for i, p := range res.Parts {
			if utf8.RuneCountInString(p.Title) > maxSubjectRunes+10 {
				return fmt.Errorf("email %d subject too long: %q", i+1, p.Title)
			}
			if cta != "" && !strings.Contains(p.Body, cta) {
				return fmt.Errorf("email %d lacks the call to action", i+1)
			}
		}
		if last := res.Parts[len(res.Parts)-1].Body; cta == "" && !strings.Contains(last, defaultCTA) {
			return fmt.Errorf("last email lacks a call to action: %q", last)
		}
	case transform.Newsletter:
		sections := prm["sections"].([]string)
		if len(res.Parts) != len(sections) {
			return fmt.Errorf("sections = %d, want %d", len(res.Parts), len(sections))
		}
		for i, name := range sections {
			if res.Parts[i].Title != humanize(name) {
				return fmt.Errorf("section %d title %q, want %q", i, res.Parts[i].Title, humanize(name))
			}
		}
	}
	return nil
}

func TestInfo(t *testing.T) {
	t.Parallel()
	info, err := New().Info(t.Context())
	require.NoError(t, err)
	require.Equal(t, ports.AIProviderInfo{Name: "local", Models: []string{"local-extractive-1"}}, info)
}

func TestSummary(t *testing.T) {
	t.Parallel()
	source := sourceSentences(article)
	tests := []struct {
		length, style string
		sentences     int
	}{
		{"short", "paragraph", 3}, {"medium", "paragraph", 6}, {"long", "paragraph", 10},
		{"short", "bullet_points", 3}, {"medium", "bullet_points", 6}, {"long", "bullet_points", 10},
		{"short", "outline", 3}, {"medium", "outline", 6}, {"long", "outline", 10},
	}
	for _, tc := range tests {
		t.Run(tc.length+"/"+tc.style, func(t *testing.T) {
			t.Parallel()
			req := request(t, transform.Summary, articleTitle, article, map[string]any{"length": tc.length, "style": tc.style})
			res, err := New().Generate(t.Context(), req)
			require.NoError(t, err)
			require.NoError(t, checkShape(req, res))
			require.Equal(t, "Summary", res.Parts[0].Title)

			var got []string
			switch tc.style {
			case "paragraph":
				require.NotContains(t, res.Text, "\n", "a paragraph is one block")
				require.NotContains(t, res.Text, "- ")
				got = splitSentences(res.Text)
				require.Equal(t, normalizeSpace(res.Text), res.Text)
			case "bullet_points":
				for _, line := range strings.Split(res.Text, "\n") {
					require.True(t, strings.HasPrefix(line, "- "), "line %q", line)
					got = append(got, strings.TrimPrefix(line, "- "))
				}
			case "outline":
				hs := headings.FindAllStringSubmatch(res.Text, -1)
				require.GreaterOrEqual(t, len(hs), 2, "an outline groups points under headings:\n%s", res.Text)
				for _, line := range strings.Split(res.Text, "\n") {
					if strings.HasPrefix(line, "- ") {
						got = append(got, strings.TrimPrefix(line, "- "))
					} else {
						require.True(t, line == "" || strings.HasPrefix(line, "## "), "line %q", line)
					}
				}
			}
			require.Len(t, got, tc.sentences, res.Text)
			for _, s := range got {
				require.True(t, source[s], "not a sentence of the source: %q", s)
			}
			// Extractive sentences appear in document order.
			last := -1
			for _, s := range got {
				at := strings.Index(article, s)
				require.Greater(t, at, last, "out of document order: %q", s)
				last = at
			}
		})
	}
}

func TestSummaryOfShortDocuments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text, length string
		want               int
	}{
		{"empty", "", "long", 1},
		{"blank", " \n\n\t ", "medium", 1},
		{"one sentence", "Remote work needs clear writing.", "long", 1},
		{"four sentences medium", "Remote work needs writing. Teams share documents daily. Meetings are rare now. Trust matters most of all.", "medium", 2},
		{"four sentences long", "Remote work needs writing. Teams share documents daily. Meetings are rare now. Trust matters most of all.", "long", 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, style := range []string{"paragraph", "bullet_points", "outline"} {
				req := request(t, transform.Summary, "", tc.text, map[string]any{"length": tc.length, "style": style})
				res, err := New().Generate(t.Context(), req)
				require.NoError(t, err)
				require.NoError(t, checkShape(req, res))
				if style == "bullet_points" {
					require.Len(t, strings.Split(res.Text, "\n"), tc.want, res.Text)
				}
			}
		})
	}
}

func TestSummaryOutlineFollowsDocumentHeadings(t *testing.T) {
	t.Parallel()
	res := gen(t, transform.Summary, "", handbook, map[string]any{"length": "medium", "style": "outline"})
	own := map[string]bool{"Overview": true, "Planning": true, "Code review": true, "Releases": true, "Incidents": true}
	hs := headings.FindAllStringSubmatch(res.Text, -1)
	require.GreaterOrEqual(t, len(hs), 3, res.Text)
	for _, h := range hs {
		require.True(t, own[h[1]], "heading %q is not one of the document's", h[1])
	}
	require.NotContains(t, res.Text, "# Engineering Handbook", "the title is not a section")
}

func TestSocialMedia(t *testing.T) {
	t.Parallel()
	source := sourceSentences(article)
	for _, platform := range []string{"twitter", "linkedin", "instagram", "facebook", "threads"} {
		for _, count := range []int{1, 3, 10} {
			for _, tags := range []bool{true, false} {
				name := fmt.Sprintf("%s/%d/tags=%v", platform, count, tags)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					req := request(t, transform.SocialMedia, articleTitle, article, map[string]any{
						"platform": platform, "post_count": count, "hashtags": tags, "tone": "professional"})
					res, err := New().Generate(t.Context(), req)
					require.NoError(t, err)
					require.NoError(t, checkShape(req, res))
					seen := map[string]bool{}
					for i, p := range res.Parts {
						require.False(t, seen[p.Body], "post %d repeats another", i+1)
						seen[p.Body] = true
						if !tags {
							require.NotContains(t, p.Body, "#", "no hashtags asked for")
						}
						if platform != "twitter" {
							require.NotEmpty(t, sentencesIn(p.Body, source), "post %d carries no sentence of the source:\n%s", i+1, p.Body)
						}
						require.Contains(t, res.Text, "## Post "+fmt.Sprint(i+1)+"\n\n"+p.Body)
					}
				})
			}
		}
	}
}

func TestSocialPostsAreBuiltFromDistinctSentences(t *testing.T) {
	t.Parallel()
	source := sourceSentences(article)
	res := gen(t, transform.SocialMedia, articleTitle, article, map[string]any{"platform": "linkedin", "post_count": 10})
	used := map[string]int{}
	for i, p := range res.Parts {
		found := sentencesIn(p.Body, source)
		require.NotEmpty(t, found)
		// The main sentence follows the hook line.
		main := strings.Split(p.Body, "\n\n")[1]
		require.True(t, source[main], "post %d: %q", i+1, main)
		used[main]++
	}
	for s, n := range used {
		require.Equal(t, 1, n, "%q is the main sentence of %d posts", s, n)
	}
}

func TestTwitterLimitCountsCharacters(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("Distributed engineering teams document every architectural decision carefully and review it asynchronously across many time zones ", 6) + "."
	noSpaces := strings.Repeat("远程工作需要信任纪律和良好的工具支持", 30) + "。"
	tests := map[string]string{"article": article, "unicode": unicodeDoc, "one long sentence": long, "cjk without spaces": noSpaces}
	for name, text := range tests {
		for _, tone := range []string{"engaging", "humorous", "urgent and direct"} {
			t.Run(name+"/"+tone, func(t *testing.T) {
				t.Parallel()
				req := request(t, transform.SocialMedia, "Équipes distribuées — 远程工作", text, map[string]any{
					"platform": "twitter", "post_count": 5, "tone": tone})
				res, err := New().Generate(t.Context(), req)
				require.NoError(t, err)
				require.NoError(t, checkShape(req, res))
				for _, p := range res.Parts {
					require.LessOrEqual(t, utf8.RuneCountInString(p.Body), transform.TwitterLimit, p.Body)
				}
				if name == "one long sentence" {
					require.Contains(t, res.Parts[0].Body, "…", "a trimmed post says so")
				}
			})
		}
	}
}

func TestHashtags(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"remote work":  "#RemoteWork",
		"time zones":   "#TimeZones",
		"API design":   "#APIDesign",
		"real-time":    "#RealTime",
		"café culture": "#CaféCulture",
		"远程":           "#远程",
		"2024":         "",
		"x":            "",
		"a very long phrase that cannot be a readable tag": "",
	}
	for in, want := range tests {
		require.Equal(t, want, hashtag(in), in)
	}
}

func TestToneChangesHooks(t *testing.T) {
	t.Parallel()
	hook := func(tone string) string {
		res := gen(t, transform.SocialMedia, articleTitle, article, map[string]any{"platform": "linkedin", "tone": tone})
		return strings.Split(res.Parts[0].Body, "\n\n")[0]
	}
	require.NotEqual(t, hook("professional"), hook("humorous"))
	require.NotEqual(t, hook("casual"), hook("urgent"))
}

func TestBlogPost(t *testing.T) {
	t.Parallel()
	for _, target := range []int{100, 250, 400, 800, 1200} {
		t.Run(fmt.Sprint(target), func(t *testing.T) {
			t.Parallel()
			req := request(t, transform.BlogPost, articleTitle, article, map[string]any{"word_count": target, "target_audience": "engineering managers"})
			res, err := New().Generate(t.Context(), req)
			require.NoError(t, err)
			require.NoError(t, checkShape(req, res))
			words := countWords(res.Text)
			require.InDelta(t, target, words, float64(target)*0.2, "words = %d, want %d ± 20%%\n%s", words, target, res.Text)

			require.True(t, strings.HasPrefix(res.Text, "# "+articleTitle+"\n\n"))
			require.Equal(t, articleTitle, res.Parts[0].Title)
			hs := headings.FindAllStringSubmatch(res.Text, -1)
			require.Equal(t, "Conclusion", hs[len(hs)-1][1])
			require.GreaterOrEqual(t, len(hs)-1, 3, "3 to 5 sections")
			require.LessOrEqual(t, len(hs)-1, 5, "3 to 5 sections")
			intro := strings.SplitN(strings.SplitN(res.Text, "\n## ", 2)[0], "\n\n", 2)[1]
			require.NotEmpty(t, strings.TrimSpace(intro), "an introduction before the first section")
		})
	}
}

func TestBlogPostIsNeverPadded(t *testing.T) {
	t.Parallel()
	articleWords := countWords(article)
	res := gen(t, transform.BlogPost, articleTitle, article, map[string]any{"word_count": 5000})
	words := countWords(res.Text)
	require.Less(t, words, articleWords+120, "a post longer than its source is padding")
	require.Greater(t, words, articleWords*8/10, "a long post uses what the source has")
	// Every source sentence appears at most once.
	for s := range sourceSentences(article) {
		require.LessOrEqual(t, strings.Count(res.Text, s), 1, s)
	}

	short := gen(t, transform.BlogPost, "", "Remote teams write things down. Writing scales better than meetings.", map[string]any{"word_count": 800})
	require.Less(t, countWords(short.Text), 60, short.Text)
	require.NotContains(t, strings.ToLower(short.Text), "lorem")
}

func TestBlogPostUsesDocumentSections(t *testing.T) {
	t.Parallel()
	res := gen(t, transform.BlogPost, "", handbook, map[string]any{"word_count": 250})
	require.True(t, strings.HasPrefix(res.Text, "# Engineering Handbook\n\n"), res.Text)
	hs := headings.FindAllStringSubmatch(res.Text, -1)
	own := map[string]bool{"Planning": true, "Code review": true, "Releases": true, "Incidents": true, "Conclusion": true}
	for _, h := range hs {
		require.True(t, own[h[1]], "heading %q", h[1])
	}
}

func TestEmailSequence(t *testing.T) {
	t.Parallel()
	source := sourceSentences(article)
	const cta = "Book a 20-minute call at example.com/remote."
	tests := []struct {
		count int
		cta   string
	}{{1, ""}, {3, ""}, {3, cta}, {5, cta}, {10, ""}}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d/cta=%v", tc.count, tc.cta != ""), func(t *testing.T) {
			t.Parallel()
			req := request(t, transform.EmailSequence, articleTitle, article, map[string]any{"email_count": tc.count, "call_to_action": tc.cta})
			res, err := New().Generate(t.Context(), req)
			require.NoError(t, err)
			require.NoError(t, checkShape(req, res))
			subjects := map[string]bool{}
			content := map[string]int{}
			for i, p := range res.Parts {
				require.False(t, subjects[p.Title], "subject %q repeats", p.Title)
				subjects[p.Title] = true
				require.True(t, strings.HasPrefix(p.Body, "Hello,\n\n"), "greeting: %q", p.Body)
				found := sentencesIn(p.Body, source)
				require.GreaterOrEqual(t, len(found), 2, "email %d:\n%s", i+1, p.Body)
				require.LessOrEqual(t, len(found), 4, "email %d:\n%s", i+1, p.Body)
				for _, s := range found {
					content[s]++
				}
				require.Contains(t, res.Text, fmt.Sprintf("## Email %d: %s\n\n", i+1, p.Title))
				switch {
				case tc.cta != "":
					require.Contains(t, p.Body, tc.cta)
				case i == tc.count-1:
					require.Contains(t, p.Body, defaultCTA)
				default:
					require.NotContains(t, p.Body, defaultCTA)
				}
			}
			for s, n := range content {
				require.Equal(t, 1, n, "%q appears in %d emails", s, n)
			}
		})
	}
}

func TestNewsletter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		sections []any
		titles   []string
	}{
		{"default", nil, []string{"Intro", "Main content", "Conclusion"}},
		{"custom", []any{"welcome", "main_content", "key_takeaways", "by-the-numbers", "quote_of_the_week", "time_zones", "FAQ", "TIPS_AND_TRICKS", "sign_off"},
			[]string{"Welcome", "Main content", "Key takeaways", "By the numbers", "Quote of the week", "Time zones", "FAQ", "Tips and tricks", "Sign off"}},
		{"one", []any{"news"}, []string{"News"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			params := map[string]any{}
			if tc.sections != nil {
				params["sections"] = tc.sections
			}
			req := request(t, transform.Newsletter, articleTitle, article, params)
			res, err := New().Generate(t.Context(), req)
			require.NoError(t, err)
			require.NoError(t, checkShape(req, res))
			var titles []string
			for _, p := range res.Parts {
				titles = append(titles, p.Title)
				require.Contains(t, res.Text, "## "+p.Title+"\n\n"+p.Body)
			}
			require.Equal(t, tc.titles, titles)
			require.True(t, strings.HasPrefix(res.Text, "# "+articleTitle+"\n\n"))
		})
	}
	t.Run("sections by kind", func(t *testing.T) {
		t.Parallel()
		res := gen(t, transform.Newsletter, articleTitle, article, map[string]any{"sections": []any{"quote", "by_the_numbers", "time_zones"}})
		require.True(t, strings.HasPrefix(res.Parts[0].Body, "> "), res.Parts[0].Body)
		require.Regexp(t, `\d`, res.Parts[1].Body)
		require.Contains(t, strings.ToLower(res.Parts[2].Body), "time zone")
	})
	t.Run("length scales the bodies", func(t *testing.T) {
		t.Parallel()
		words := map[string]int{}
		for _, l := range []string{"short", "medium", "long"} {
			words[l] = countWords(gen(t, transform.Newsletter, articleTitle, article, map[string]any{"length": l}).Text)
		}
		require.Less(t, words["short"], words["medium"])
		require.Less(t, words["medium"], words["long"])
	})
}

func TestCustomIsUnsupported(t *testing.T) {
	t.Parallel()
	req := request(t, transform.Custom, articleTitle, article, map[string]any{"instructions": "Rewrite as a haiku."})
	_, err := New().Generate(t.Context(), req)
	require.Error(t, err)
	require.Equal(t, core.EUNSUPPORTED, core.ErrorCode(err))
	require.Contains(t, err.Error(), "does not support CUSTOM")

	_, err = New().GenerateStream(t.Context(), req, func(string) error { t.Fatal("no text for CUSTOM"); return nil })
	require.Equal(t, core.EUNSUPPORTED, core.ErrorCode(err))

	_, err = New().Generate(t.Context(), ports.AIRequest{Type: "POEM", Text: article})
	require.Equal(t, core.EINVALID, core.ErrorCode(err))
}

// everyType is one request of each supported type on text.
func everyType(t testing.TB, text string) []ports.AIRequest {
	t.Helper()
	return []ports.AIRequest{
		request(t, transform.Summary, articleTitle, text, map[string]any{"style": "outline", "length": "long"}),
		request(t, transform.Summary, articleTitle, text, map[string]any{"style": "paragraph"}),
		request(t, transform.SocialMedia, articleTitle, text, map[string]any{"platform": "twitter", "post_count": 4}),
		request(t, transform.SocialMedia, articleTitle, text, map[string]any{"platform": "instagram", "post_count": 2}),
		request(t, transform.BlogPost, articleTitle, text, map[string]any{"word_count": 600, "tone": "casual"}),
		request(t, transform.EmailSequence, articleTitle, text, map[string]any{"email_count": 4, "call_to_action": "Reply today."}),
		request(t, transform.Newsletter, articleTitle, text, map[string]any{"sections": []any{"intro", "highlights", "tips", "conclusion"}}),
	}
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	for _, text := range []string{article, handbook, unicodeDoc} {
		for _, req := range everyType(t, text) {
			first, err := New().Generate(t.Context(), req)
			require.NoError(t, err)
			// Concurrent runs on one provider give byte-identical results.
			p := New()
			var wg sync.WaitGroup
			results := make([]ports.AIResult, 4)
			for i := range results {
				wg.Go(func() {
					res, err := p.Generate(t.Context(), req)
					if err == nil {
						results[i] = res
					}
				})
			}
			wg.Wait()
			for _, r := range results {
				require.True(t, reflect.DeepEqual(first, r), "%s differs between runs", req.Type)
			}
		}
	}
}

func TestStreamConcatenatesToText(t *testing.T) {
	t.Parallel()
	for _, req := range everyType(t, article) {
		want, err := New().Generate(t.Context(), req)
		require.NoError(t, err)
		var chunks []string
		got, err := New().GenerateStream(t.Context(), req, func(delta string) error {
			chunks = append(chunks, delta)
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, want, got)
		require.Greater(t, len(chunks), 3, "streamed in pieces")
		require.Equal(t, want.Text, strings.Join(chunks, ""))
	}
}

func TestStreamStopsOnCancel(t *testing.T) {
	t.Parallel()
	req := request(t, transform.BlogPost, articleTitle, article, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	res, err := New().GenerateStream(ctx, req, func(string) error {
		calls++
		if calls == 2 {
			cancel()
		}
		return nil
	})
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, 2, calls, "no delta after the cancellation")
	require.Empty(t, res.Text)

	_, err = New().Generate(ctx, req)
	require.ErrorIs(t, err, context.Canceled)
}

func TestStreamStopsOnDeltaError(t *testing.T) {
	t.Parallel()
	req := request(t, transform.Summary, articleTitle, article, nil)
	stop := errors.New("client went away")
	calls := 0
	_, err := New().GenerateStream(t.Context(), req, func(string) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	require.ErrorIs(t, err, stop)
	require.Equal(t, 3, calls)
}

func TestEveryTypeOnHardInputs(t *testing.T) {
	t.Parallel()
	inputs := map[string]string{
		"empty":         "",
		"whitespace":    "  \n\n\t  \n",
		"one word":      "Hello",
		"heading only":  "# Just a heading",
		"punctuation":   "... !!! ??? — – ·",
		"code only":     "```\nfunc main() {}\n```",
		"unicode":       unicodeDoc,
		"markdown":      handbook + "\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- item one\n- item two\n\n> quoted text here.\n\n---\n\n![img](x.png) [link](http://x)",
		"no paragraphs": strings.Repeat("word ", 3000),
		"invalid utf-8": "Remote work \xff\xfe works. It really \x00does.",
		"crlf lines":    strings.ReplaceAll(handbook, "\n", "\r\n"),
		"long lines":    strings.ReplaceAll(article, "\n\n", "\n"),
	}
	for name, text := range inputs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, req := range everyType(t, text) {
				res, err := New().Generate(t.Context(), req)
				require.NoError(t, err)
				require.NoError(t, checkShape(req, res), "%s on %q", req.Type, name)
			}
		})
	}
}

func TestParametersFromJSON(t *testing.T) {
	t.Parallel()
	// Parameters straight from JSON (float64 numbers, []any lists) read the
	// same as validated ones; missing ones take the catalog's defaults.
	fromJSON := ports.AIRequest{Type: "social_media", Text: article, Parameters: map[string]any{
		"platform": "Twitter", "post_count": float64(3), "hashtags": false}}
	res, err := New().Generate(t.Context(), fromJSON)
	require.NoError(t, err)
	require.Len(t, res.Parts, 3)
	require.Equal(t, res, gen(t, transform.SocialMedia, "", article, map[string]any{"platform": "twitter", "post_count": 3, "hashtags": false}))

	res, err = New().Generate(t.Context(), ports.AIRequest{Type: "NEWSLETTER", Text: article})
	require.NoError(t, err)
	require.Len(t, res.Parts, 3)

	res, err = New().Generate(t.Context(), ports.AIRequest{Type: "EMAIL_SEQUENCE", Text: article, Parameters: map[string]any{"email_count": 99}})
	require.NoError(t, err)
	require.Len(t, res.Parts, 10, "out-of-range counts are clamped")
}

func TestSentenceSplitting(t *testing.T) {
	t.Parallel()
	tests := map[string][]string{
		"Dr. Chen met Mr. Smith at 3.30 p.m. on Friday. They agreed.": {"Dr. Chen met Mr. Smith at 3.30 p.m. on Friday.", "They agreed."},
		"Use tools, e.g. a wiki. Then write.":                         {"Use tools, e.g. a wiki.", "Then write."},
		`She said "Stop. Think first." Then she left.`:                {`She said "Stop. Think first."`, "Then she left."},
		"Growth was 3.5% in the U.S. market. Wait... really? Yes!":    {"Growth was 3.5% in the U.S. market.", "Wait... really?", "Yes!"},
		"J. R. R. Tolkien wrote books. Many read them.":               {"J. R. R. Tolkien wrote books.", "Many read them."},
		"远程工作很普遍。团队需要文档！真的吗？是的":                                       {"远程工作很普遍。", "团队需要文档！", "真的吗？", "是的"},
		"No terminator at all":                                        {"No terminator at all"},
		"See version 2.0. It ships (soon.) Later.":                    {"See version 2.0.", "It ships (soon.)", "Later."},
	}
	for in, want := range tests {
		require.Equal(t, want, splitSentences(in), in)
	}
}

func TestTrimToRunes(t *testing.T) {
	t.Parallel()
	require.Equal(t, "short", trimToRunes("short", 10))
	got := trimToRunes("Distributed teams write everything down carefully", 30)
	require.Equal(t, "Distributed teams write…", got)
	require.LessOrEqual(t, utf8.RuneCountInString(trimToRunes(strings.Repeat("远程工作", 100), 50)), 50)
	require.LessOrEqual(t, utf8.RuneCountInString(trimToRunes(strings.Repeat("é", 100), 7)), 7)
}

// FuzzGenerate feeds random text and parameters drawn from the catalog;
// whatever the input, there is no panic and the shape guarantees hold.
func FuzzGenerate(f *testing.F) {
	f.Add(article[:2000], uint8(0), uint8(1), uint8(2), true, "professional", "")
	f.Add(handbook, uint8(1), uint8(0), uint8(9), true, "humorous", "Sign up.")
	f.Add(unicodeDoc, uint8(1), uint8(4), uint8(3), false, "casual", "")
	f.Add("", uint8(2), uint8(7), uint8(7), true, "x", "")
	f.Add("A. B. C. d... e!!! ?", uint8(3), uint8(9), uint8(1), false, "urgent", "Buy now")
	f.Add("# H\n\n## I\n\n- x\n\n## J", uint8(4), uint8(2), uint8(0), true, "intro,main_content,tips", "")
	f.Add("\xff\xfe\x00 #tag #other", uint8(5), uint8(1), uint8(1), true, "", "")
	f.Fuzz(func(t *testing.T, text string, kind, a, b uint8, flag bool, tone, cta string) {
		types := []transform.Type{transform.Summary, transform.SocialMedia, transform.BlogPost, transform.EmailSequence, transform.Newsletter, transform.Custom}
		typ := types[int(kind)%len(types)]
		params := fuzzParams(typ, a, b, flag, tone, cta)
		valid, err := transform.Validate(typ, params, "body.parameters")
		if err != nil {
			delete(params, "tone")
			delete(params, "target_audience")
			delete(params, "call_to_action")
			delete(params, "sections")
			valid, err = transform.Validate(typ, params, "body.parameters")
			if err != nil {
				t.Fatalf("catalog rejects generated parameters %v: %v", params, err)
			}
		}
		req := ports.AIRequest{Type: string(typ), Title: tone, Text: text, Parameters: valid}
		res, err := New().Generate(context.Background(), req)
		if typ == transform.Custom {
			if core.ErrorCode(err) != core.EUNSUPPORTED {
				t.Fatalf("CUSTOM: %v", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if err := checkShape(req, res); err != nil {
			t.Fatalf("%s %v: %v", typ, valid, err)
		}
		var sb strings.Builder
		again, err := New().GenerateStream(context.Background(), req, func(d string) error { sb.WriteString(d); return nil })
		if err != nil || !reflect.DeepEqual(res, again) || sb.String() != res.Text {
			t.Fatalf("stream differs from generate (err %v)", err)
		}
	})
}

func fuzzParams(typ transform.Type, a, b uint8, flag bool, tone, cta string) map[string]any {
	spec, _ := transform.Lookup(typ)
	enum := func(name string, n uint8) string {
		for _, p := range spec.Params {
			if p.Name == name {
				return p.Enum[int(n)%len(p.Enum)]
			}
		}
		return ""
	}
	switch typ {
	case transform.Summary:
		return map[string]any{"length": enum("length", a), "style": enum("style", b)}
	case transform.SocialMedia:
		return map[string]any{"platform": enum("platform", a), "post_count": 1 + int(b)%10, "hashtags": flag, "tone": tone}
	case transform.BlogPost:
		return map[string]any{"word_count": 100 + (int(a)*256+int(b))%4901, "tone": tone, "target_audience": tone}
	case transform.EmailSequence:
		return map[string]any{"email_count": 1 + int(a)%10, "tone": tone, "call_to_action": cta}
	case transform.Newsletter:
		var sections []any
		for _, s := range strings.Split(tone, ",") {
			sections = append(sections, s)
		}
		return map[string]any{"sections": sections, "length": enum("length", a), "tone": cta}
	}
	return map[string]any{"instructions": "Rewrite it.", "tone": tone}
}

func BenchmarkSummary(b *testing.B) {
	p := New()
	req := request(b, transform.Summary, articleTitle, article, map[string]any{"length": "medium", "style": "bullet_points"})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Generate(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSocialMedia(b *testing.B) {
	p := New()
	req := request(b, transform.SocialMedia, articleTitle, article, map[string]any{"platform": "twitter", "post_count": 5})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Generate(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEveryType(b *testing.B) {
	p := New()
	for _, req := range everyType(b, article) {
		b.Run(req.Type, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Generate(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

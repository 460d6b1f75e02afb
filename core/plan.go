package core

import "fmt"

// PlanLimits bounds what a workspace may hold or do per plan. Zero or a
// negative value means unlimited.
type PlanLimits struct {
	Members                   int     `json:"members"`
	Documents                 int     `json:"documents"`
	StorageBytes              int64   `json:"storage_bytes"`
	AIRequestsPerMonth        int     `json:"ai_requests_per_month"`
	AISpendPerMonthUSD        float64 `json:"ai_spend_per_month_usd"`
	ConcurrentTransformations int     `json:"concurrent_transformations"`
}

// DefaultPlanLimits are the limits of each plan unless configured otherwise
// (PLAN_LIMITS).
func DefaultPlanLimits() map[Plan]PlanLimits {
	return map[Plan]PlanLimits{
		PlanFree:       {Members: 3, Documents: 50, StorageBytes: 100 << 20, AIRequestsPerMonth: 100, AISpendPerMonthUSD: 5, ConcurrentTransformations: 2},
		PlanStarter:    {Members: 10, Documents: 1000, StorageBytes: 2 << 30, AIRequestsPerMonth: 2000, AISpendPerMonthUSD: 50, ConcurrentTransformations: 5},
		PlanPro:        {Members: 50, Documents: 20000, StorageBytes: 20 << 30, AIRequestsPerMonth: 20000, AISpendPerMonthUSD: 500, ConcurrentTransformations: 20},
		PlanEnterprise: {Members: 0, Documents: 0, StorageBytes: 0, AIRequestsPerMonth: 0, AISpendPerMonthUSD: 0, ConcurrentTransformations: 100},
	}
}

// QuotaExceeded is the EQUOTA error (402) naming the limit a workspace hit.
func QuotaExceeded(limit string, plan Plan, allowed any) *Error {
	return Errorf(EQUOTA, "plan limit reached: %s (the %s plan allows %v)", limit, plan, allowed)
}

// CheckCount returns QuotaExceeded when adding one more to used would pass
// max (max <= 0: unlimited).
func CheckCount(limit string, plan Plan, used, max int) error {
	if max > 0 && used+1 > max {
		return QuotaExceeded(limit, plan, fmt.Sprint(max))
	}
	return nil
}

package postgres

// CheckTenantRoleAs exposes checkTenantRole to the tests of postgres_test,
// which point it at roles of their own instead of the shared AppRole.
var CheckTenantRoleAs = checkTenantRole

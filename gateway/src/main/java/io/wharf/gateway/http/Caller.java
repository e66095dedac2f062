package io.wharf.gateway.http;

import io.wharf.records.FunctionSpec;

/**
 * Who sent a request, from its API key: the tenant whose functions and jobs it sees, and whether it may use the
 * management routes of every tenant.
 */
public record Caller(String keyId, String tenant, boolean admin) {
    /** Whether this caller may see (and so invoke, list, cancel) what belongs to {@code tenant}. */
    public boolean sees(String tenant) {
        return admin || this.tenant.equals(tenant);
    }

    public boolean sees(FunctionSpec function) {
        return sees(function.getTenant());
    }

    /** @throws ApiError 403 unless an admin key */
    public void requireAdmin(String what) {
        if (!admin) {
            throw ApiError.forbidden(what + " needs an admin key (`wharf apikey create --tenant T --admin`); this key is tenant "
                    + tenant + "'s");
        }
    }
}

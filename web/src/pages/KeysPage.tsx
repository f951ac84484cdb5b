import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../api";
import { ErrorNote, fieldError, when } from "../ui";

type ApiKey = { id: string; name: string; prefix: string; scope: string; created_at: string; last_used_at: string | null };

const SCOPES = [
  ["read", "Read: look, never change"],
  ["build", "Build: read, and run the builder"],
  ["full", "Full: everything but keys and credentials"],
];

export function KeysPage() {
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [name, setName] = useState("");
  const [scope, setScope] = useState("read");
  const [created, setCreated] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  const load = () =>
    api<ApiKey[]>("auth/api-keys/")
      .then(setKeys)
      .catch((caught) => setError(caught));

  useEffect(() => {
    void load();
  }, []);

  const create = async (event: Event) => {
    event.preventDefault();
    setError(null);
    try {
      const key = await api<ApiKey & { key: string }>("auth/api-keys/", { method: "POST", json: { name, scope } });
      setCreated(key.key);
      setName("");
      await load();
    } catch (caught) {
      setError(caught as ApiError);
    }
  };

  const revoke = async (key: ApiKey) => {
    try {
      await api(`auth/api-keys/${key.id}/`, { method: "DELETE" });
      await load();
    } catch (caught) {
      setError(caught as ApiError);
    }
  };

  return (
    <main class="page">
      <h1 tabIndex={-1}>API keys</h1>
      <p class="muted">
        For scripts: send one as <code>Authorization: Bearer oak_…</code>. A key is shown once, when it is made.
      </p>
      <form class="card create" onSubmit={create} aria-labelledby="new-key">
        <h2 id="new-key">New key</h2>
        <div class="row">
          <label class="grow">
            Key name
            <input required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <label>
            Scope
            <select value={scope} onChange={(e) => setScope(e.currentTarget.value)}>
              {SCOPES.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          <button class="primary" type="submit" disabled={!name.trim()}>
            Create key
          </button>
        </div>
        {fieldError(error, "name") && <p class="field-error">{fieldError(error, "name")}</p>}
      </form>
      {created && (
        <div class="card new-key" role="status">
          <p>
            <strong>Copy your new key now.</strong> It will not be shown again.
          </p>
          <input readOnly value={created} aria-label="New API key" data-testid="new-key" onFocus={(e) => e.currentTarget.select()} />
        </div>
      )}
      <ErrorNote error={error && !fieldError(error, "name") ? error : null} />
      {keys === null ? (
        <p class="muted">Loading…</p>
      ) : keys.length === 0 ? (
        <p class="empty">No API keys.</p>
      ) : (
        <table class="ledger">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key</th>
              <th scope="col">Scope</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.map((key) => (
              <tr key={key.id}>
                <td>{key.name}</td>
                <td>
                  <code>{key.prefix}…</code>
                </td>
                <td>{key.scope}</td>
                <td>{key.last_used_at ? when(key.last_used_at) : "never"}</td>
                <td class="num">
                  <button type="button" class="danger" onClick={() => revoke(key)} aria-label={`Revoke ${key.name}`}>
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}

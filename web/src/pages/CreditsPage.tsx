import { useEffect, useState } from "preact/hooks";
import { api, Balance, Page } from "../api";
import { BASE } from "../router";
import { credits, ErrorNote, when } from "../ui";

type Pack = { id: string; name: string; credits: number; price: number; currency: string; purchasable: boolean };
type LedgerEntry = { id: number; kind: string; amount: number; balance_after: number; reason: string; created_at: string };

function money(amount: number, currency: string): string {
  return new Intl.NumberFormat("en", { style: "currency", currency: currency.toUpperCase() }).format(amount / 100);
}

export function CreditsPage() {
  const [balance, setBalance] = useState<Balance | null>(null);
  const [packs, setPacks] = useState<Pack[]>([]);
  const [ledger, setLedger] = useState<LedgerEntry[] | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    api<Balance>("payments/balance/").then(setBalance).catch(setError);
    api<Pack[]>("payments/packs/").then(setPacks).catch(setError);
    api<Page<LedgerEntry>>("payments/ledger/")
      .then((page) => setLedger(page.results))
      .catch(setError);
  }, []);

  const buy = async (pack: Pack) => {
    const back = `${location.origin}${BASE}/credits`;
    try {
      const checkout = await api<{ session_id: string; url: string }>("payments/checkout/", {
        method: "POST",
        json: { pack_id: pack.id, success_url: `${back}?paid={CHECKOUT_SESSION_ID}`, cancel_url: back },
      });
      location.assign(checkout.url);
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <main class="page">
      <h1 tabIndex={-1}>Credits</h1>
      <ErrorNote error={error} />
      {balance && (
        <div class="card balance-card" data-testid="credits-balance">
          <div>
            <span class="big">{balance.available.toLocaleString("en")}</span> credits available
          </div>
          <p class="muted small">
            {credits(balance.balance)} owned · {credits(balance.held)} held by runs in progress. 1 credit = USD 0.001.
          </p>
        </div>
      )}
      <h2>Buy credits</h2>
      <ul class="project-grid">
        {packs.map((pack) => (
          <li key={pack.id} class="card">
            <h3>{pack.name}</h3>
            <p>
              {credits(pack.credits)} for {money(pack.price, pack.currency)}
            </p>
            <button
              type="button"
              class="primary"
              disabled={!pack.purchasable}
              aria-describedby={pack.purchasable ? undefined : "not-purchasable"}
              onClick={() => buy(pack)}
            >
              Buy {pack.name}
            </button>
          </li>
        ))}
      </ul>
      {packs.some((pack) => !pack.purchasable) && (
        <p id="not-purchasable" class="muted small">
          Purchases are not available on this server (no payment provider is configured).
        </p>
      )}
      <h2>History</h2>
      {ledger === null ? (
        <p class="muted">Loading…</p>
      ) : (
        <table class="ledger">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">What</th>
              <th scope="col" class="num">
                Credits
              </th>
              <th scope="col" class="num">
                Balance
              </th>
            </tr>
          </thead>
          <tbody>
            {ledger.map((entry) => (
              <tr key={entry.id}>
                <td>{when(entry.created_at)}</td>
                <td>{entry.reason || entry.kind.replace(/_/g, " ")}</td>
                <td class="num">{(entry.amount > 0 ? "+" : "") + entry.amount.toLocaleString("en")}</td>
                <td class="num">{entry.balance_after.toLocaleString("en")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}

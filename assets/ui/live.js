// Live pages. The node tells an open page, by server-sent events, that
// something arrived; the page fetches the changed part again (the server
// renders and escapes it) and says so in a polite live region:
// - the inbox: its rows and filter counts (for the address's filters) and
//   the notices;
// - a record page: the table of each recipient's state;
// - any other part marked <… data-live-src="URL"> (a meeting's answers).
// Every deadline (<time class="countdown" datetime=…>) is rewritten each
// minute; without script the server's text still says the time left.
// An ended session sends the page to the login page with the reason.
// No inline script: the page loads this file from the node
// (Content-Security-Policy script-src 'self').
"use strict";

(function () {
  const ja = document.documentElement.lang !== "en";

  // The same words as the server's inbox_filter::remaining.
  function remaining(deadline, now) {
    const minutes = Math.floor((deadline - now) / 60000);
    const abs = Math.abs(minutes);
    const d = Math.floor(abs / 1440), h = Math.floor((abs % 1440) / 60), m = abs % 60;
    let span;
    if (ja) span = d > 0 ? `${d}日${h}時間` : h > 0 ? `${h}時間${m}分` : `${m}分`;
    else span = d > 0 ? `${d} d ${h} h` : h > 0 ? `${h} h ${m} min` : `${m} min`;
    if (minutes >= 0) return ja ? `あと${span}` : `${span} left`;
    return ja ? `${span}超過` : `${span} overdue`;
  }

  function countDown() {
    const now = Date.now();
    for (const el of document.querySelectorAll("time.countdown[datetime]")) {
      const at = Date.parse(el.getAttribute("datetime"));
      if (Number.isNaN(at)) continue;
      el.textContent = remaining(at, now);
      el.parentElement?.classList.toggle("overdue", at <= now);
    }
  }
  countDown();
  setInterval(countDown, 60_000);

  const rows = document.getElementById("inbox-rows");
  const notices = document.getElementById("inbox-notices");
  const filters = document.getElementById("inbox-filters");
  const states = document.querySelector("table.states tbody");
  const record = window.location.pathname.match(/^\/envelopes\/([0-9A-Za-z-]+)$/);
  const parts = document.querySelectorAll("[data-live-src]");
  const status = document.getElementById("live-status");
  if (!window.EventSource || !(rows || (states && record) || parts.length)) return;

  const say = (key) => { if (status) status.textContent = status.dataset[key] || ""; };

  async function fetchPart(url) {
    const response = await fetch(url, { credentials: "same-origin" });
    if (response.redirected || !response.ok) {
      window.location.assign("/login?ended=ended");
      throw new Error("session ended");
    }
    return response.text();
  }

  async function refresh() {
    if (rows) rows.innerHTML = await fetchPart(`/inbox/rows${window.location.search}`);
    if (filters) filters.innerHTML = await fetchPart(`/inbox/filters${window.location.search}`);
    if (notices) notices.innerHTML = await fetchPart("/inbox/notices");
    if (states && record) states.innerHTML = await fetchPart(`/envelopes/${record[1]}/states`);
    for (const part of parts) part.innerHTML = await fetchPart(part.dataset.liveSrc);
    countDown();
    say("new");
  }

  const events = new EventSource("/events");
  events.addEventListener("open", () => say("on"));
  events.addEventListener("error", () => say("off"));
  events.addEventListener("inbox", () => { refresh().catch(() => say("off")); });
  events.addEventListener("ended", (event) => {
    events.close();
    const reason = ["idle", "expired"].includes(event.data) ? event.data : "ended";
    window.location.assign(`/login?ended=${reason}`);
  });
})();

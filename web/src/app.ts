// The aerec page: search, rate with stars, recommendations that update after every rating, and the model
// page. It talks to the aerec API only; a visitor's id is kept in localStorage.

/** A movie id as the data states it: a number for MovieLens, text for data with text ids. */
type MovieId = number | string;
interface Movie {
  movieId: MovieId;
  title: string;
  year: number | null;
  genres: string[];
  score: number;
  predicted?: number | null;
  because?: { movieId: MovieId; title: string } | null;
}
interface Rating {
  movieId: MovieId;
  rating: number;
  title: string | null;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const VISITOR_KEY = "aerec.visitor";

/** Who the page speaks for: a visitor the service issued (with the token his writes carry), or a model user. */
interface Identity {
  user: string;
  token: string | null;
}
let identity: Identity | null = JSON.parse(localStorage.getItem(VISITOR_KEY) ?? "null");
let user = identity?.user ?? "";
let ratings = new Map<MovieId, Rating>();

function remember(next: Identity): void {
  identity = next;
  user = next.user;
  localStorage.setItem(VISITOR_KEY, JSON.stringify(next));
}

/** A new visitor from the service: an id nobody can guess and his token. */
async function newVisitor(): Promise<void> {
  remember(await api<Identity>("/api/visitors", { method: "POST" }));
}

async function api<T>(path: string, init?: RequestInit): Promise<T> {
  const headers: Record<string, string> = init?.body ? { "content-type": "application/json" } : {};
  if (identity?.token) headers.authorization = `Bearer ${identity.token}`;
  const response = await fetch(path, { ...init, headers });
  if (!response.ok) {
    const body = await response.json().catch(() => ({ message: response.statusText }));
    throw new Error(body.message ?? `HTTP ${response.status}`);
  }
  clearError();
  return (response.status === 204 ? undefined : response.json()) as T;
}

/** Shows what went wrong at the top of the window, in words (a network failure says so). */
function showError(error: unknown): void {
  const offline = error instanceof TypeError;
  $("error-text").textContent = offline
    ? "Could not reach the aerec service: check the connection (or that the service runs) and try again."
    : error instanceof Error
      ? error.message
      : String(error);
  $("error").hidden = false;
  showStatus("");
}

function clearError(): void {
  $("error").hidden = true;
}

let statusTimer: ReturnType<typeof setTimeout> | undefined;
/** A short confirmation at the top of the window (on a phone the list it speaks of may be out of view). */
function showStatus(text: string): void {
  clearTimeout(statusTimer);
  $("status").textContent = text;
  statusTimer = setTimeout(() => {
    $("status").textContent = "";
  }, 5000);
}

/** Marks `id` as loading while `work` runs. */
async function busy<T>(id: string, work: () => Promise<T>): Promise<T> {
  $(id).setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    $(id).removeAttribute("aria-busy");
  }
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  text?: string,
) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Each movie's short key for element ids (movie ids may hold any text). */
const domKeys = new Map<MovieId, number>();
const domKey = (movieId: MovieId) => {
  if (!domKeys.has(movieId)) domKeys.set(movieId, domKeys.size);
  return domKeys.get(movieId)!;
};

/** The visitor's rating of a movie, as a URL. */
const ratingUrl = (movieId: MovieId) =>
  `/api/users/${encodeURIComponent(user)}/ratings/${encodeURIComponent(String(movieId))}`;

/** The ratings a person can give, one star each: the model's scale (1..5 for MovieLens; see loadScale). */
let choices = [1, 2, 3, 4, 5];
let scaleMax = 5;

/**
 * Reads the served model's scale: a scale of at most ten whole steps gets a star for each (1..10 gives ten),
 * any other five stars spread over it, each on a step.
 */
async function loadScale(): Promise<void> {
  const { scale } = await api<{ scale: { min: number; max: number; step: number } }>("/api/model");
  const steps = Math.round((scale.max - scale.min) / scale.step);
  const onStep = (x: number) =>
    Number((scale.min + Math.round((x - scale.min) / scale.step) * scale.step).toFixed(6));
  choices =
    steps >= 1 && steps < 10
      ? Array.from({ length: steps + 1 }, (_, i) => onStep(scale.min + i * scale.step))
      : Array.from({ length: 5 }, (_, i) => onStep(scale.min + (i * (scale.max - scale.min)) / 4));
  if (choices[0] <= 0) choices = choices.filter((c) => c > 0);
  scaleMax = scale.max;
}

/** A score as lit and unlit stars, one per choice. */
function starText(score: number): string {
  // The nearest choice: 4.6 on 1..5 shows five stars.
  const half = choices.length > 1 ? (choices[1] - choices[0]) / 2 : 0;
  const lit = choices.filter((c) => c <= score + half).length;
  return "★".repeat(lit) + "☆".repeat(choices.length - lit);
}

/** A row of star radio buttons, one per choice: keyboard users move with the arrow keys, as with any radio group. */
function starPicker(
  movie: { movieId: MovieId; title: string },
  current: number | undefined,
): HTMLFieldSetElement {
  const set = el("fieldset", { class: "stars" });
  set.append(el("legend", {}, `Your rating of ${movie.title}`));
  for (const [i, s] of choices.entries()) {
    const id = `star-${domKey(movie.movieId)}-${i + 1}`;
    const input = el("input", {
      type: "radio",
      name: `stars-${domKey(movie.movieId)}`,
      id,
      value: String(s),
    });
    if (current === s) input.setAttribute("checked", "");
    const label = el(
      "label",
      { for: id, class: current !== undefined && s <= current ? "on" : "", title: `${s} of ${scaleMax}` },
      "★",
    );
    label.setAttribute("aria-label", `${s} star${s !== 1 ? "s" : ""}`);
    input.addEventListener("change", () => rate(movie, s));
    set.append(input, label);
  }
  return set;
}

function movieRow(
  movie: Movie | (Rating & { genres?: string[]; year?: number | null }),
  withStars: boolean,
): HTMLLIElement {
  const li = el("li");
  li.append(el("span", { class: "title" }, movie.title ?? `movie ${movie.movieId}`));
  // MovieLens titles carry their year ("Star Wars (1977)"): say it once.
  const year = "year" in movie && movie.year && !movie.title?.endsWith(`(${movie.year})`) ? movie.year : "";
  const meta = [year, ("genres" in movie && movie.genres?.join(", ")) || ""].filter(Boolean).join(" · ");
  if (meta) li.append(" ", el("span", { class: "meta" }, meta));
  if (withStars)
    li.append(
      starPicker({ movieId: movie.movieId, title: movie.title ?? "" }, ratings.get(movie.movieId)?.rating),
    );
  return li;
}

/** Lights the stars of `movie` up to `stars` (none for undefined) in every picker shown for it. */
function showStars(movieId: MovieId, stars: number | undefined): void {
  for (const input of document.querySelectorAll<HTMLInputElement>(`input[name="stars-${domKey(movieId)}"]`)) {
    const s = Number(input.value);
    input.checked = s === stars;
    const label = document.querySelector<HTMLLabelElement>(`label[for="${input.id}"]`);
    label?.classList.toggle("on", stars !== undefined && s <= stars);
  }
}

async function rate(movie: { movieId: MovieId; title: string }, stars: number): Promise<void> {
  const before = ratings.get(movie.movieId)?.rating;
  try {
    await api(ratingUrl(movie.movieId), {
      method: "PUT",
      body: JSON.stringify({ rating: stars }),
    });
    ratings.set(movie.movieId, { movieId: movie.movieId, rating: stars, title: movie.title });
    showStars(movie.movieId, stars);
    renderRatings();
    await refreshRecommendations();
    showStatus(`You rated ${movie.title} ${stars} of ${scaleMax}: your recommendations are updated.`);
  } catch (e) {
    // The rating did not take: the stars say so again.
    showStars(movie.movieId, before);
    showError(e);
  }
}

function renderRatings(): void {
  const list = $("ratings");
  list.replaceChildren();
  if (ratings.size === 0) {
    const note = $("training").hidden
      ? "No ratings yet: search for a movie and give it stars."
      : "None added here yet; the model knows the ratings below.";
    list.append(el("li", { class: "note" }, note));
  }
  for (const r of ratings.values()) {
    const li = movieRow(r, false);
    li.append(
      " ",
      el("span", { class: "predicted", "aria-label": `${r.rating} stars` }, starText(r.rating)),
      " ",
    );
    const remove = el(
      "button",
      { type: "button", "aria-label": `Remove your rating of ${r.title}` },
      "Remove",
    );
    remove.addEventListener("click", async () => {
      try {
        await api(ratingUrl(r.movieId), { method: "DELETE" });
        ratings.delete(r.movieId);
        renderRatings();
        await refreshRecommendations();
      } catch (e) {
        showError(e);
      }
    });
    li.append(remove);
    list.append(li);
  }
}

/** A model user's training ratings, which his recommendations also rest on ("because you rated ..."). */
function renderTraining(training: Rating[]): void {
  $("training").hidden = training.length === 0;
  $("training-summary").textContent = `The ${training.length} ratings the model was trained with`;
  $("training-ratings").replaceChildren(
    ...training.map((r) => {
      const li = movieRow(r, false);
      li.append(
        " ",
        el("span", { class: "predicted", "aria-label": `${r.rating} stars` }, starText(r.rating)),
      );
      return li;
    }),
  );
}

async function refreshRecommendations(): Promise<void> {
  const { known, items } = await busy("recommendations", () =>
    api<{ known: boolean; items: Movie[] }>(`/api/users/${encodeURIComponent(user)}/recommendations?k=10`),
  );
  $("recs-note").textContent = known
    ? "Ranked for you, with predicted stars and the movie you rated that led here."
    : "Most rated movies: rate a few to get your own.";
  const list = $("recommendations");
  list.replaceChildren(
    ...items.map((m) => {
      const li = movieRow(m, false);
      const stars = known ? m.predicted : null;
      if (stars !== null && stars !== undefined) {
        li.append(
          " ",
          el(
            "span",
            { class: "predicted", "aria-label": `predicted ${stars.toFixed(1)} stars` },
            `${starText(stars)} ${stars.toFixed(1)}`,
          ),
        );
      }
      if (m.because) li.append(el("div", { class: "because" }, `because you rated ${m.because.title}`));
      return li;
    }),
  );
}

let searchTimer: ReturnType<typeof setTimeout> | undefined;
async function search(q: string): Promise<void> {
  const results = $("results");
  if (q.trim().length < 2) {
    results.replaceChildren();
    return;
  }
  const page = await api<{ items: Movie[] }>(`/api/movies?q=${encodeURIComponent(q)}&pageSize=8`);
  results.replaceChildren(...page.items.map((m) => movieRow(m, true)));
  if (page.items.length === 0) results.append(el("li", { class: "note" }, "No movie matches."));
}

async function loadUser(): Promise<void> {
  showStatus("");
  if (!identity) await newVisitor();
  $("identity").textContent = identity?.token
    ? `You are a visitor (${user}); your ratings are kept for this browser.`
    : `You are user ${user}.`;
  const stored = await busy("ratings", () =>
    api<{ ratings: Rating[]; training: Rating[] }>(`/api/users/${encodeURIComponent(user)}/ratings`),
  );
  ratings = new Map(stored.ratings.map((r) => [r.movieId, r]));
  renderTraining(stored.training);
  renderRatings();
  await refreshRecommendations();
}

async function showModel(): Promise<void> {
  const model = await api<{
    kind: string;
    rater: string | null;
    description: string;
    dataset: string;
    split: string;
    users: number;
    movies: number;
    metrics: {
      test?: { rmse?: number; mae?: number };
      ranking?: { ndcg?: number; precision?: number };
      rater?: { rmse?: number; mae?: number } | null;
    };
    history: { epoch: number; trainLoss: number; validationRmse?: number }[];
  }>("/api/model");
  const stars = model.metrics.rater ?? model.metrics.test;
  const facts: [string, string][] = [
    ["Model", model.description],
    [
      "Stars from",
      model.rater === null
        ? "no rating model"
        : model.rater === model.kind
          ? model.kind
          : `${model.rater}, beside it`,
    ],
    ["Trained on", `${model.dataset}, split ${model.split}: ${model.users} users, ${model.movies} movies`],
    ["Test RMSE", stars?.rmse?.toFixed(4) ?? "-"],
    ["Test MAE", stars?.mae?.toFixed(4) ?? "-"],
    ["Test NDCG@10", model.metrics.ranking?.ndcg?.toFixed(4) ?? "-"],
    ["Epochs", model.history.length > 0 ? String(model.history.length) : "none: fitted in closed form"],
  ];
  $("model-facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  $("curve").replaceChildren(
    model.history.length > 0
      ? el("img", {
          src: "/api/model/curve.svg",
          alt: `Training curve of ${model.kind}: ${model.history.length} epochs`,
        })
      : el("p", {}, "No training curve: this model has no epochs."),
  );
}

function route(): void {
  const onModel = location.hash === "#/model";
  $("home").hidden = onModel;
  $("model").hidden = !onModel;
  $("nav-home").toggleAttribute("aria-current", !onModel);
  $("nav-model").toggleAttribute("aria-current", onModel);
  if (onModel) $("nav-model").setAttribute("aria-current", "page");
  else $("nav-home").setAttribute("aria-current", "page");
  (onModel ? showModel() : loadUser()).catch(showError);
}

$("search").addEventListener("input", (e) => {
  clearTimeout(searchTimer);
  const q = (e.target as HTMLInputElement).value;
  searchTimer = setTimeout(() => search(q).catch(showError), 150);
});
$("as-user").addEventListener("submit", (e) => {
  e.preventDefault();
  const id = ($("user-id") as HTMLInputElement).value.trim();
  if (id === "" || id.length > 200) return showError(new Error("a user id is 1 to 200 characters"));
  remember({ user: id, token: null });
  loadUser().catch(showError);
});
$("start-over").addEventListener("click", async () => {
  try {
    // A visitor's ratings go; a model user's stay (they are not the page's to change).
    if (identity?.token)
      for (const r of ratings.values()) await api(ratingUrl(r.movieId), { method: "DELETE" });
    // The old lists go at once, so that nothing of the previous user shows under the new one.
    ratings = new Map();
    renderTraining([]);
    renderRatings();
    $("recommendations").replaceChildren();
    $("recs-note").textContent = "Loading…";
    await newVisitor();
    await loadUser();
  } catch (e) {
    showError(e);
  }
});
$("error-close").addEventListener("click", clearError);
window.addEventListener("hashchange", route);
loadScale().then(route, (e) => {
  showError(e);
  route();
});

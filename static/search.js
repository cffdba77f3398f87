/* papersite search: one classic script on every page (loaded with defer).
 *
 * - On search.html it reads q, filters and sort from the URL, keeps them there (pushState on
 *   submit and filter changes, replaceState while typing), and answers with
 *   - Pagefind (<root>/pagefind/pagefind.js) when the page is served over http(s);
 *   - the script-loaded index (<root>/search-index/*.js) when opened from disk (file://),
 *     where browsers block ES modules and fetch. Each index file calls
 *     window.__papersiteSearch.register(name, data).
 * Results are built with DOM APIs only; no untrusted text ever goes through innerHTML.
 */
(function () {
  "use strict";

  var FILTERS = ["kind", "topic", "year", "listing", "category"];
  var PAGE_SIZE = 20;
  var body = document.body;
  var root = (body && body.dataset.siteRoot) || "";
  var rootURL = new URL(root || "./", document.baseURI);

  // The "/" key that focuses the search box is handled by static/site.js.

  /* ---------- text helpers (same folding and splitting as generator/offline_index.py) ---------- */

  var WORD = /[\p{L}\p{N}]+/gu;

  function fold(text) {
    return text.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
  }

  function words(text) {
    return fold(text).match(WORD) || [];
  }

  function fileKey(prefix) {
    var out = "";
    for (var ch of prefix) {
      out += /^[a-z0-9]$/i.test(ch) ? ch : "_" + ch.codePointAt(0).toString(16);
    }
    return out;
  }

  /* Segments [{text, mark}] of a Pagefind excerpt: text with <mark>..</mark> and entities.
   * Anything else that looks like markup makes the whole excerpt plain text. */
  var ENTITIES = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'", "&#x27;": "'" };

  function decodeEntities(text) {
    return text.replace(/&(amp|lt|gt|quot|#39|#x27);/g, function (m) {
      return ENTITIES[m];
    });
  }

  function pagefindSegments(excerpt) {
    var parts = String(excerpt || "").split(/(<mark>|<\/mark>)/);
    var segments = [];
    var marked = false;
    for (var i = 0; i < parts.length; i++) {
      var part = parts[i];
      if (part === "<mark>") {
        marked = true;
      } else if (part === "</mark>") {
        marked = false;
      } else if (/[<>]/.test(part)) {
        return [{ text: decodeEntities(String(excerpt).replace(/<[^>]*>/g, "")), mark: false }];
      } else if (part) {
        segments.push({ text: decodeEntities(part), mark: marked });
      }
    }
    return segments;
  }

  /* Segments of an excerpt of `text` around the first matched word (offline index). */
  function excerptSegments(text, matched, length) {
    var tokens = [];
    var m;
    WORD.lastIndex = 0;
    while ((m = WORD.exec(text)) !== null) {
      tokens.push({ start: m.index, end: m.index + m[0].length, hit: matched.has(fold(m[0])) });
    }
    if (!tokens.length) return [{ text: text, mark: false }];
    var first = tokens.findIndex(function (t) { return t.hit; });
    var from = first < 0 ? 0 : Math.max(0, first - Math.floor(length / 4));
    var to = Math.min(tokens.length, from + length);
    from = Math.max(0, Math.min(from, to - length));
    var start = from === 0 ? 0 : tokens[from].start;
    var end = to === tokens.length ? text.length : tokens[to - 1].end;
    var segments = [];
    if (from > 0) segments.push({ text: "… ", mark: false });
    var pos = start;
    for (var i = from; i < to; i++) {
      var t = tokens[i];
      if (!t.hit) continue;
      if (t.start > pos) segments.push({ text: text.slice(pos, t.start), mark: false });
      segments.push({ text: text.slice(t.start, t.end), mark: true });
      pos = t.end;
    }
    if (end > pos) segments.push({ text: text.slice(pos, end), mark: false });
    if (to < tokens.length) segments.push({ text: " …", mark: false });
    return segments;
  }

  /* ---------- hosted: Pagefind ---------- */

  /* `bundles`: site paths of the Pagefind bundles ("pagefind/" first). A large site is
   * indexed in parts (one Pagefind run each, to bound the indexer's memory), each part a
   * contiguous run of papers, newest first. Each bundle is its own Pagefind instance (its own
   * pagefind.js module), and the results are merged here: by score for relevance (as
   * Pagefind's mergeIndex does), in bundle order for a date sort (mergeIndex would re-sort
   * a date sort by score). */
  function pagefindBackend(bundles) {
    var instances = null;
    var list = bundles && bundles.length ? bundles : [{ path: "pagefind/", sorts: ["date"] }];
    var paths = list.map(function (b) { return b.path; });
    var dated = list.map(function (b) { return b.sorts.indexOf("date") >= 0; });
    async function ready() {
      if (!instances) {
        instances = await Promise.all(paths.map(async function (path) {
          var pf = await import(new URL(path + "pagefind.js", rootURL).href);
          await pf.options({ baseUrl: rootURL.pathname, excerptLength: 30 });
          await pf.init();
          return pf;
        }));
      }
      return instances;
    }
    return {
      name: "pagefind",
      filterValues: async function () {
        var pfs = await ready();
        var all = await Promise.all(pfs.map(function (pf) { return pf.filters(); }));
        var counts = {};
        all.forEach(function (filters) {
          Object.keys(filters || {}).forEach(function (key) {
            counts[key] = counts[key] || new Map();
            Object.keys(filters[key]).forEach(function (value) {
              counts[key].set(value, (counts[key].get(value) || 0) + filters[key][value]);
            });
          });
        });
        var out = {};
        Object.keys(counts).forEach(function (key) {
          out[key] = Array.from(counts[key].entries()).filter(function (e) { return e[1] > 0; });
        });
        return out;
      },
      search: async function (query, filters, sort) {
        var pfs = await ready();
        var options = { filters: filters };
        if (sort === "date-desc") options.sort = { date: "desc" };
        if (sort === "date-asc") options.sort = { date: "asc" };
        var found = await Promise.all(pfs.map(function (pf, i) {
          // a date sort leaves out pages without a date; a bundle with none has no such sort
          if (options.sort && !dated[i]) return null;
          return pf.search(query || null, options);
        }));
        var lists = found.map(function (f) { return f ? f.results : []; });
        if (sort === "date-asc") lists.reverse();
        var results = [].concat.apply([], lists);
        if (!sort) results.sort(function (a, b) { return b.score - a.score; });
        return {
          total: results.length,
          load: function (from, to) {
            return Promise.all(results.slice(from, to).map(async function (r) {
              var data = await r.data();
              var meta = data.meta || {};
              var kinds = (data.filters && data.filters.kind) || [];
              return {
                href: data.url,
                kind: kinds[0] || "",
                title: meta.title || data.url,
                authors: meta.authors || "",
                year: meta.year || "",
                excerpt: pagefindSegments(data.excerpt),
              };
            }));
          },
        };
      },
    };
  }

  /* ---------- from disk: the script-loaded index ---------- */

  var registry = Object.create(null);
  var loading = Object.create(null);
  window.__papersiteSearch = {
    register: function (name, data) {
      registry[name] = data;
    },
  };

  function loadScript(name) {
    if (registry[name]) return Promise.resolve(registry[name]);
    if (!loading[name]) {
      loading[name] = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = new URL("search-index/" + name + ".js", rootURL).href;
        script.onload = function () {
          if (registry[name]) resolve(registry[name]);
          else reject(new Error("search index file did not register: " + name));
        };
        script.onerror = function () {
          delete loading[name];
          reject(new Error("search index file missing: " + name));
        };
        document.head.appendChild(script);
      });
    }
    return loading[name];
  }

  function offlineBackend() {
    var manifest = null;
    async function ready() {
      if (!manifest) manifest = await loadScript("manifest");
      return manifest;
    }

    function shardsFor(term, keys) {
      var exact = "";
      var extra = [];
      keys.forEach(function (key) {
        if (term.startsWith(key) && key.length > exact.length) exact = key;
        else if (key.length > term.length && key.startsWith(term)) extra.push(key);
      });
      var names = exact ? [exact] : [];
      if (term.length >= 2) names = names.concat(extra.slice(0, 24));
      return names;
    }

    function decode(flat) {
      var docs = [];
      var scores = [];
      var doc = 0;
      for (var i = 0; i < flat.length; i += 2) {
        doc += flat[i];
        docs.push(doc);
        scores.push(flat[i + 1]);
      }
      return { docs: docs, scores: scores };
    }

    function idf(total, df) {
      return Math.log(1 + (total - df + 0.5) / (df + 0.5));
    }

    async function termScores(term, m, highlight) {
      var keys = shardsFor(term, m.shards);
      var shards = await Promise.all(keys.map(function (key) {
        return loadScript("s-" + fileKey(key));
      }));
      var scores = new Map();
      shards.forEach(function (shard) {
        var factors = new Map();
        Object.keys(shard.w).forEach(function (w) {
          var factor = w === term ? 1 : term.length >= 3 && w.startsWith(term) ? 0.6 : 0;
          if (!factor) return;
          var p = shard.w[w];
          factors.set(p, Math.max(factors.get(p) || 0, factor));
        });
        Object.keys(shard.w).forEach(function (w) {
          if (factors.has(shard.w[w])) highlight.add(w);
        });
        factors.forEach(function (factor, p) {
          var list = decode(shard.p[p]);
          var weight = factor * idf(m.docs, list.docs.length) / m.scale;
          for (var i = 0; i < list.docs.length; i++) {
            var s = weight * list.scores[i];
            var d = list.docs[i];
            if (!scores.has(d) || scores.get(d) < s) scores.set(d, s);
          }
        });
      });
      return scores;
    }

    async function filterSet(name, value, m) {
      var values = (m.filters[name] || []).filter(function (v) { return v[0] === value; });
      if (!values.length) return new Set();
      var ids = await loadScript(values[0][2]);
      var set = new Set();
      var doc = 0;
      ids.forEach(function (delta) { doc += delta; set.add(doc); });
      return set;
    }

    return {
      name: "offline",
      filterValues: async function () {
        var m = await ready();
        var out = {};
        Object.keys(m.filters).forEach(function (key) {
          out[key] = m.filters[key].map(function (v) { return [v[0], v[1]]; });
        });
        return out;
      },
      search: async function (query, filters, sort) {
        var m = await ready();
        var stop = new Set(m.stop);
        var terms = Array.from(new Set(words(query || ""))).filter(function (t) {
          return !stop.has(t);
        });
        var highlight = new Set();
        var filterNames = Object.keys(filters);
        if (!terms.length && !filterNames.length) {
          return { total: 0, load: function () { return Promise.resolve([]); } };
        }
        var perTerm = await Promise.all(terms.map(function (t) { return termScores(t, m, highlight); }));
        var sets = await Promise.all(filterNames.map(function (f) {
          return filterSet(f, filters[f], m);
        }));
        var scored = new Map();
        if (perTerm.length) {
          perTerm.sort(function (a, b) { return a.size - b.size; });
          perTerm[0].forEach(function (s, d) {
            var total = s;
            for (var i = 1; i < perTerm.length; i++) {
              var other = perTerm[i].get(d);
              if (other === undefined) return;
              total += other;
            }
            scored.set(d, total);
          });
        } else {
          sets.sort(function (a, b) { return a.size - b.size; });
          sets[0].forEach(function (d) { scored.set(d, 0); });
        }
        var ids = [];
        scored.forEach(function (s, d) {
          for (var i = 0; i < sets.length; i++) if (!sets[i].has(d)) return;
          if (sort && d >= m.dated) return; // a date sort leaves undated pages out, as Pagefind does
          ids.push(d);
        });
        if (sort === "date-desc") ids.sort(function (a, b) { return a - b; });
        else if (sort === "date-asc") ids.sort(function (a, b) { return b - a; });
        else ids.sort(function (a, b) { return scored.get(b) - scored.get(a) || a - b; });
        return {
          total: ids.length,
          load: function (from, to) {
            return Promise.all(ids.slice(from, to).map(async function (d) {
              var chunk = await loadScript("d-" + Math.floor(d / m.chunk));
              var doc = chunk[d % m.chunk];
              return {
                href: root + doc[0],
                kind: doc[1],
                title: doc[2],
                authors: doc[3],
                year: doc[4],
                excerpt: excerptSegments(doc[5], highlight, 30),
              };
            }));
          },
        };
      },
    };
  }

  /* ---------- the search page ---------- */

  var page = document.getElementById("search-page");
  if (!page) return;
  var form = document.getElementById("search-form");
  var input = document.getElementById("search-q");
  var sortSelect = document.getElementById("search-sort");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var more = document.getElementById("search-more");
  var hosted = location.protocol === "http:" || location.protocol === "https:";
  var backend = null;

  /* Over http(s) the build says which index answers (search-index/engine.js): Pagefind, or
   * the script-loaded index for a site too large for Pagefind to answer a common word in
   * time. `engine=pagefind` or `engine=index` in the URL overrides it (for measuring). */
  async function chooseBackend() {
    if (!hosted) return offlineBackend();
    var forced = new URLSearchParams(location.search).get("engine");
    var engine = { http: "pagefind", bundles: null };
    try {
      engine = await loadScript("engine");
    } catch (err) {
      /* an older build without engine.js: Pagefind, one bundle */
    }
    var use = forced === "pagefind" || forced === "index" ? forced : engine.http;
    return use === "index" ? offlineBackend() : pagefindBackend(engine.bundles);
  }
  var generation = 0;
  var shown = 0;
  var current = null;

  function selectFor(name) {
    return document.getElementById("search-filter-" + name);
  }

  function readURL() {
    var params = new URLSearchParams(location.search);
    var state = { q: params.get("q") || "", sort: params.get("sort") || "", filters: {} };
    FILTERS.forEach(function (name) {
      var value = params.get(name);
      if (value) state.filters[name] = value;
    });
    return state;
  }

  function readForm() {
    var state = { q: input.value.trim(), sort: sortSelect.value, filters: {} };
    FILTERS.forEach(function (name) {
      var select = selectFor(name);
      if (select && select.value) state.filters[name] = select.value;
    });
    return state;
  }

  function ensureOption(select, value) {
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === value) return;
    }
    var option = document.createElement("option");
    option.value = value;
    option.textContent = value;
    select.appendChild(option);
  }

  function writeForm(state) {
    input.value = state.q;
    var header = document.getElementById("site-search");
    if (header) header.value = state.q;
    sortSelect.value = state.sort;
    FILTERS.forEach(function (name) {
      var select = selectFor(name);
      if (!select) return;
      var value = state.filters[name] || "";
      if (value) ensureOption(select, value);
      select.value = value;
    });
  }

  function stateURL(state) {
    var params = new URLSearchParams();
    if (state.q) params.set("q", state.q);
    FILTERS.forEach(function (name) {
      if (state.filters[name]) params.set(name, state.filters[name]);
    });
    if (state.sort) params.set("sort", state.sort);
    var qs = params.toString();
    return location.pathname + (qs ? "?" + qs : "");
  }

  function remember(state, push) {
    var url = stateURL(state);
    if (url === location.pathname + location.search) return;
    if (push) history.pushState(null, "", url);
    else history.replaceState(null, "", url);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  var KIND_LABELS = { author: "Author", topic: "Topic", paper: "" };

  function renderResult(r) {
    var item = el("li", "search-result search-result-" + (r.kind || "page"));
    var heading = el("h2", "search-result-title");
    var link = el("a", "", r.title);
    link.href = r.href;
    heading.appendChild(link);
    item.appendChild(heading);
    var metaParts = [];
    if (KIND_LABELS[r.kind]) metaParts.push(KIND_LABELS[r.kind]);
    if (r.authors) metaParts.push(r.authors);
    if (r.year) metaParts.push(String(r.year));
    if (metaParts.length) item.appendChild(el("p", "search-result-meta", metaParts.join(" · ")));
    var excerpt = el("p", "search-result-excerpt");
    r.excerpt.forEach(function (seg) {
      excerpt.appendChild(seg.mark ? el("mark", "", seg.text) : document.createTextNode(seg.text));
    });
    item.appendChild(excerpt);
    return item;
  }

  async function showMore(gen) {
    var batch = await current.load(shown, shown + PAGE_SIZE);
    if (gen !== generation) return;
    batch.forEach(function (r) { list.appendChild(renderResult(r)); });
    shown += batch.length;
    more.hidden = shown >= current.total;
  }

  function describe(state) {
    var parts = [];
    if (state.q) parts.push("“" + state.q + "”");
    Object.keys(state.filters).forEach(function (name) {
      parts.push(name + ": " + state.filters[name]);
    });
    return parts.join(", ");
  }

  async function run(state) {
    var gen = ++generation;
    list.replaceChildren();
    more.hidden = true;
    shown = 0;
    if (!state.q && !Object.keys(state.filters).length) {
      status.textContent = "Type a word to search papers, authors and topics.";
      page.dataset.state = "idle";
      return;
    }
    status.textContent = "Searching…";
    page.dataset.state = "searching";
    if (!backend) return; // still choosing the index: start() runs the URL's search next
    try {
      var found = await backend.search(state.q, state.filters, state.sort);
      if (gen !== generation) return;
      current = found;
      if (!found.total) {
        status.textContent = "No results for " + describe(state) + ".";
      } else {
        status.textContent =
          found.total + (found.total === 1 ? " result" : " results") + " for " + describe(state) + ".";
        await showMore(gen);
      }
      if (gen === generation) page.dataset.state = "done";
    } catch (err) {
      if (gen !== generation) return;
      status.textContent = "Search is unavailable: " + (err && err.message ? err.message : err);
      page.dataset.state = "error";
    }
  }

  async function fillFilters() {
    var values = await backend.filterValues();
    FILTERS.forEach(function (name) {
      var select = selectFor(name);
      if (!select || !values[name]) return;
      var entries = values[name].slice();
      if (name === "year") entries.sort(function (a, b) { return a[0] < b[0] ? 1 : -1; });
      else entries.sort(function (a, b) { return a[0].localeCompare(b[0]); });
      entries.forEach(function (entry) {
        var exists = false;
        for (var i = 0; i < select.options.length; i++) {
          if (select.options[i].value === entry[0]) {
            select.options[i].textContent = entry[0] + " (" + entry[1] + ")";
            exists = true;
          }
        }
        if (!exists) {
          var option = el("option", "", entry[0] + " (" + entry[1] + ")");
          option.value = entry[0];
          select.appendChild(option);
        }
      });
    });
  }

  var typingTimer = 0;
  input.addEventListener("input", function () {
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () {
      var state = readForm();
      remember(state, false);
      run(state);
    }, 250);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearTimeout(typingTimer);
    var state = readForm();
    remember(state, true);
    run(state);
  });
  form.addEventListener("change", function (event) {
    if (event.target === input) return;
    var state = readForm();
    remember(state, true);
    run(state);
  });
  more.addEventListener("click", function () {
    showMore(generation);
  });
  window.addEventListener("popstate", function () {
    var state = readURL();
    writeForm(state);
    run(state);
  });

  async function start() {
    writeForm(readURL());
    backend = await chooseBackend();
    try {
      await fillFilters();
    } catch (err) {
      if (hosted && backend.name !== "offline") {
        backend = offlineBackend(); // the Pagefind bundle is missing: the disk index still answers
        try { await fillFilters(); } catch (err2) { /* reported by run() below */ }
      }
    }
    var state = readURL(); // as it is now: a search submitted while loading changed it
    writeForm(state);
    page.dataset.backend = backend.name;
    await run(state);
  }

  start();
})();

// The reference page's renderer: it fetches openapi.json from the same
// origin and builds the page with DOM calls only (textContent, never
// innerHTML), so nothing in the document can inject markup, and the page's
// Content-Security-Policy (including Trusted Types) holds.
(function () {
  'use strict';

  var METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
  var MAX_DEPTH = 8;
  var doc = null;

  // Anything the Content-Security-Policy blocks is counted on <body>, so a
  // policy that breaks the page shows up in tests and in the page itself.
  var violations = 0;
  document.addEventListener('securitypolicyviolation', function (e) {
    violations++;
    document.body.dataset.cspViolations = String(violations);
    var status = document.getElementById('status');
    if (status) {
      status.textContent += ' (blocked by the Content-Security-Policy: ' + e.violatedDirective + ')';
    }
  });
  window.addEventListener('error', function (e) {
    fail(e.message || 'script error');
  });

  // el builds an element: attrs sets attributes (class, id, data-*...),
  // children are nodes or strings (strings become text nodes).
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        if (attrs[k] !== undefined && attrs[k] !== null && attrs[k] !== false) {
          node.setAttribute(k, attrs[k] === true ? '' : String(attrs[k]));
        }
      });
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    if (children === undefined || children === null) {
      return node;
    }
    if (!Array.isArray(children)) {
      children = [children];
    }
    children.forEach(function (c) {
      if (c === undefined || c === null || c === false) {
        return;
      }
      if (Array.isArray(c)) {
        append(node, c);
        return;
      }
      node.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    });
    return node;
  }

  // inline renders `code` and **bold** spans of one line of text.
  function inline(text) {
    var frag = document.createDocumentFragment();
    var re = /`([^`]+)`|\*\*([^*]+)\*\*/g;
    var last = 0;
    var m;
    while ((m = re.exec(text)) !== null) {
      if (m.index > last) {
        frag.appendChild(document.createTextNode(text.slice(last, m.index)));
      }
      frag.appendChild(m[1] !== undefined ? el('code', null, m[1]) : el('strong', null, m[2]));
      last = re.lastIndex;
    }
    if (last < text.length) {
      frag.appendChild(document.createTextNode(text.slice(last)));
    }
    return frag;
  }

  // markdown renders the small subset of CommonMark the document uses:
  // paragraphs, "- " lists, inline code and bold.
  function markdown(text, cls) {
    var box = el('div', { class: cls || 'md' });
    if (!text) {
      return box;
    }
    String(text).split(/\n\s*\n/).forEach(function (block) {
      var lines = block.split('\n');
      if (lines.every(function (l) { return /^\s*- /.test(l); })) {
        var ul = el('ul');
        lines.forEach(function (l) { ul.appendChild(el('li', null, inline(l.replace(/^\s*- /, '')))); });
        box.appendChild(ul);
      } else {
        box.appendChild(el('p', null, inline(lines.join(' '))));
      }
    });
    return box;
  }

  // pointer follows a local JSON pointer ("#/components/schemas/Event").
  function pointer(ref) {
    if (typeof ref !== 'string' || ref.indexOf('#/') !== 0) {
      return undefined;
    }
    return ref.slice(2).split('/').reduce(function (node, part) {
      if (node === undefined || node === null) {
        return undefined;
      }
      return node[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    }, doc);
  }

  function refName(ref) {
    var parts = String(ref).split('/');
    return parts[parts.length - 1].replace(/~1/g, '/').replace(/~0/g, '~');
  }

  // deref resolves $ref chains of OpenAPI objects (parameters, responses,
  // headers), which take no sibling keywords.
  function deref(obj) {
    var seen = 0;
    while (obj && typeof obj === 'object' && typeof obj.$ref === 'string' && seen < 20) {
      obj = pointer(obj.$ref);
      seen++;
    }
    return obj || {};
  }

  function json(v) {
    return typeof v === 'string' ? v : JSON.stringify(v, null, 2);
  }

  // flatten merges allOf branches into one schema for display: properties
  // and required are combined, later branches refine earlier ones.
  function flatten(schema, depth) {
    depth = depth || 0;
    if (!schema || typeof schema !== 'object' || depth > MAX_DEPTH) {
      return schema || {};
    }
    var out = {};
    var base = schema;
    if (typeof schema.$ref === 'string') {
      var target = pointer(schema.$ref);
      base = Object.assign({}, flatten(target, depth + 1));
      Object.keys(schema).forEach(function (k) {
        if (k !== '$ref') {
          base[k] = schema[k];
        }
      });
    }
    Object.keys(base).forEach(function (k) {
      if (k !== 'allOf') {
        out[k] = base[k];
      }
    });
    (base.allOf || []).forEach(function (branch) {
      var f = flatten(branch, depth + 1);
      Object.keys(f).forEach(function (k) {
        if (k === 'properties') {
          out.properties = Object.assign({}, out.properties || {});
          Object.keys(f.properties).forEach(function (p) {
            var prev = out.properties[p];
            out.properties[p] = prev ? Object.assign({}, flatten(prev, depth + 1), flatten(f.properties[p], depth + 1)) : f.properties[p];
          });
        } else if (k === 'required') {
          out.required = Array.from(new Set((out.required || []).concat(f.required)));
        } else if (k === 'description' && out.description) {
          // keep the outer description
        } else if (!(k in out) || k === 'const') {
          out[k] = f[k];
        }
      });
    });
    return out;
  }

  // constraints lists a schema's validation keywords in words.
  function constraints(s) {
    var out = [];
    if ('const' in s) { out.push('= ' + JSON.stringify(s.const)); }
    if (s.enum && !('const' in s)) { out.push('one of ' + s.enum.map(function (v) { return JSON.stringify(v); }).join(', ')); }
    if (s.format) { out.push('format ' + s.format); }
    if (s.minLength !== undefined && s.maxLength !== undefined) { out.push(s.minLength + '–' + s.maxLength + ' chars'); }
    else if (s.minLength !== undefined) { out.push('≥ ' + s.minLength + ' chars'); }
    else if (s.maxLength !== undefined) { out.push('≤ ' + s.maxLength + ' chars'); }
    if (s.minimum !== undefined) { out.push('≥ ' + s.minimum); }
    if (s.maximum !== undefined) { out.push('≤ ' + s.maximum); }
    if (s.minItems !== undefined) { out.push('≥ ' + s.minItems + ' items'); }
    if (s.maxItems !== undefined) { out.push('≤ ' + s.maxItems + ' items'); }
    if (s.pattern) { out.push('pattern ' + visible(s.pattern)); }
    if (s.default !== undefined) { out.push('default ' + JSON.stringify(s.default)); }
    if (s.additionalProperties === false) { out.push('no other members'); }
    return out.join(' · ');
  }

  // visible writes invisible characters of a pattern as \uXXXX escapes,
  // which is also how the pattern syntax spells them.
  function visible(text) {
    return String(text).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufffd]/g, function (c) {
      return '\\u' + ('000' + c.charCodeAt(0).toString(16)).slice(-4);
    });
  }

  function typeLabel(s) {
    if (s.type) {
      return Array.isArray(s.type) ? s.type.join(' | ') : s.type;
    }
    if ('const' in s) { return typeof s.const; }
    if (s.enum) { return typeof s.enum[0]; }
    if (s.properties) { return 'object'; }
    if (s.items) { return 'array'; }
    return 'any';
  }

  // schemaView renders a schema as a nested list.
  function schemaView(schema, depth) {
    return el('div', { class: 'schema' }, schemaBody(schema, depth || 0));
  }

  function schemaBody(raw, depth) {
    if (depth > MAX_DEPTH) {
      return el('span', { class: 'constraint' }, '…');
    }
    var name = raw && typeof raw.$ref === 'string' ? refName(raw.$ref) : null;
    var s = flatten(raw, 0);
    var line = el('div', null, [
      el('span', { class: 'type' }, typeLabel(s)),
      name ? el('span', { class: 'ref' }, ' (' + name + ')') : null,
      constraints(s) ? el('span', { class: 'constraint' }, ' · ' + constraints(s)) : null
    ]);
    var parts = [line];
    if (s.description) {
      parts.push(markdown(s.description, 'desc'));
    }
    ['oneOf', 'anyOf'].forEach(function (k) {
      if (Array.isArray(s[k])) {
        var ul = el('ul');
        s[k].forEach(function (alt, i) {
          ul.appendChild(el('li', null, [el('span', { class: 'constraint' }, (k === 'oneOf' ? 'exactly one of, option ' : 'any of, option ') + (i + 1) + ':'), schemaBody(alt, depth + 1)]));
        });
        parts.push(ul);
      }
    });
    if (s.properties) {
      var props = el('ul');
      var required = s.required || [];
      Object.keys(s.properties).forEach(function (p) {
        props.appendChild(el('li', null, [
          el('span', { class: 'name' }, p),
          required.indexOf(p) >= 0 ? el('span', { class: 'req' }, 'required') : null,
          ' ',
          schemaBody(s.properties[p], depth + 1)
        ]));
      });
      parts.push(props);
    }
    if (Array.isArray(s.prefixItems)) {
      var pre = el('ul');
      s.prefixItems.forEach(function (item, i) {
        pre.appendChild(el('li', null, [el('span', { class: 'name' }, 'item ' + i), ' ', schemaBody(item, depth + 1)]));
      });
      parts.push(pre);
    }
    if (s.items && typeof s.items === 'object') {
      parts.push(el('ul', null, el('li', null, [el('span', { class: 'name' }, Array.isArray(s.prefixItems) ? 'other items' : 'items'), ' ', schemaBody(s.items, depth + 1)])));
    }
    return parts;
  }

  function examplesView(media) {
    var out = [];
    if (media.example !== undefined) {
      out.push(el('div', { class: 'example-label' }, 'Example'));
      out.push(el('pre', null, json(media.example)));
    }
    if (media.examples) {
      Object.keys(media.examples).forEach(function (k) {
        var ex = deref(media.examples[k]);
        out.push(el('div', { class: 'example-label' }, 'Example: ' + (ex.summary || k)));
        out.push(el('pre', null, json(ex.value)));
      });
    }
    return out;
  }

  function contentView(content) {
    return Object.keys(content || {}).map(function (type) {
      var media = content[type] || {};
      return el('div', { class: 'media' }, [
        el('div', { class: 'media-type' }, type),
        media.schema ? schemaView(media.schema) : null,
        examplesView(media)
      ]);
    });
  }

  function paramsView(params) {
    if (!params.length) {
      return null;
    }
    var body = el('tbody');
    params.forEach(function (p) {
      var s = flatten(p.schema || {}, 0);
      body.appendChild(el('tr', null, [
        el('td', null, [el('code', null, p.name), p.required ? el('span', { class: 'req' }, 'required') : null]),
        el('td', null, p.in),
        el('td', null, [el('span', { class: 'type' }, typeLabel(s)), constraints(s) ? el('div', { class: 'constraint' }, constraints(s)) : null]),
        el('td', null, [markdown(p.description, 'desc'), p.example !== undefined ? el('div', { class: 'constraint' }, ['e.g. ', el('code', null, json(p.example))]) : null])
      ]));
    });
    return el('table', null, [
      el('thead', null, el('tr', null, [el('th', null, 'Name'), el('th', null, 'In'), el('th', null, 'Schema'), el('th', null, 'Description')])),
      body
    ]);
  }

  function headersView(headers) {
    var names = Object.keys(headers || {});
    if (!names.length) {
      return null;
    }
    var body = el('tbody');
    names.forEach(function (n) {
      var h = deref(headers[n]);
      var s = flatten(h.schema || {}, 0);
      body.appendChild(el('tr', null, [
        el('td', null, [el('code', null, n), h.required ? null : el('span', { class: 'constraint' }, ' (sometimes)')]),
        el('td', null, [el('span', { class: 'type' }, typeLabel(s)), constraints(s) ? el('div', { class: 'constraint' }, constraints(s)) : null]),
        el('td', null, [markdown(h.description, 'desc'), h.example !== undefined ? el('div', { class: 'constraint' }, ['e.g. ', el('code', null, json(h.example))]) : null])
      ]));
    });
    return el('table', null, [
      el('thead', null, el('tr', null, [el('th', null, 'Header'), el('th', null, 'Schema'), el('th', null, 'Description')])),
      body
    ]);
  }

  function securityView(op) {
    var reqs = op.security !== undefined ? op.security : (doc.security || []);
    if (!reqs.length) {
      return el('div', { class: 'auth' }, 'Public: no token needed.');
    }
    var scopes = [];
    reqs.forEach(function (r) {
      Object.keys(r).forEach(function (k) {
        (r[k] || []).forEach(function (s) {
          if (scopes.indexOf(s) < 0) {
            scopes.push(s);
          }
        });
      });
    });
    if (!scopes.length) {
      return el('div', { class: 'auth' }, 'Bearer token from POST /token, any scope.');
    }
    return el('div', { class: 'auth' }, ['Bearer token from POST /token with scope ', el('code', { class: 'scope' }, scopes.join(' '))]);
  }

  function opId(method, path, op) {
    return 'op-' + (op.operationId || (method + path).replace(/[^A-Za-z0-9]+/g, '-'));
  }

  function operationView(path, method, op, pathItem) {
    var params = [];
    var seen = {};
    (op.parameters || []).concat(pathItem.parameters || []).forEach(function (p) {
      var r = deref(p);
      var key = r.in + ':' + String(r.name).toLowerCase();
      if (!seen[key]) {
        seen[key] = true;
        params.push(r);
      }
    });
    var section = el('section', {
      class: 'op',
      id: opId(method, path, op),
      'data-method': method.toUpperCase(),
      'data-path': path
    }, [
      el('h3', null, [el('span', { class: 'method method-' + method }, method.toUpperCase()), el('span', { class: 'path' }, path)]),
      op.summary ? el('p', { class: 'summary' }, op.summary) : null,
      securityView(op),
      markdown(op.description, 'md')
    ]);
    if (params.length) {
      append(section, [el('h4', null, 'Parameters'), paramsView(params)]);
    }
    if (op.requestBody) {
      var rb = deref(op.requestBody);
      append(section, [el('h4', null, 'Request body' + (rb.required ? '' : ' (optional)')), rb.description ? markdown(rb.description, 'desc') : null, contentView(rb.content)]);
    }
    var responses = el('div', { class: 'responses' });
    Object.keys(op.responses || {}).sort().forEach(function (code) {
      var r = deref(op.responses[code]);
      var refd = op.responses[code] && op.responses[code].$ref ? refName(op.responses[code].$ref) : null;
      var d = el('details', { class: 'response', open: /^2/.test(code) }, [
        el('summary', null, [
          el('span', { class: 'status status-' + code.charAt(0) }, code),
          el('span', null, inline(String(r.description || '').split('\n')[0])),
          refd ? el('span', { class: 'constraint' }, refd) : null
        ]),
        headersView(r.headers),
        contentView(r.content)
      ]);
      responses.appendChild(d);
    });
    append(section, [el('h4', null, 'Responses'), responses]);
    // What the search box matches: everything a reader would look for.
    section.dataset.search = [method, path, op.operationId, op.summary, op.description, (op.tags || []).join(' '),
      params.map(function (p) { return p.name; }).join(' '), Object.keys(op.responses || {}).join(' '),
      section.textContent].join(' ').toLowerCase();
    return section;
  }

  // operations lists every operation in document order, grouped by its
  // first tag (tags in the document's order, untagged last).
  function operations() {
    var ops = [];
    Object.keys(doc.paths || {}).forEach(function (path) {
      var item = doc.paths[path] || {};
      METHODS.forEach(function (m) {
        if (item[m]) {
          ops.push({ path: path, method: m, op: item[m], item: item });
        }
      });
    });
    return ops;
  }

  function render() {
    var info = doc.info || {};
    document.title = (info.title || 'API') + ' reference';
    document.getElementById('title').textContent = info.title || 'API reference';
    document.getElementById('version').textContent = info.version ? 'v' + info.version + ' · OpenAPI ' + doc.openapi : '';

    var main = document.getElementById('main');
    var nav = document.getElementById('nav');
    var status = document.getElementById('status');

    var intro = el('section', { class: 'intro', id: 'intro' }, [
      info.summary ? el('p', { class: 'summary' }, info.summary) : null,
      markdown(info.description, 'md'),
      el('p', { class: 'desc' }, ['The machine-readable document: ', el('a', { href: 'openapi.json' }, 'openapi.json'), '.'])
    ]);
    var schemes = (doc.components || {}).securitySchemes || {};
    if (Object.keys(schemes).length) {
      intro.appendChild(el('h2', null, 'Authentication'));
      Object.keys(schemes).forEach(function (k) {
        var s = deref(schemes[k]);
        var label = s.type === 'http' ? 'HTTP ' + s.scheme + (s.bearerFormat ? ' (' + s.bearerFormat + ')' : '') : s.type;
        var box = el('div', { class: 'scheme' }, [el('h3', null, [el('code', null, k), ' ', el('span', { class: 'constraint' }, label)]), markdown(s.description, 'md')]);
        var pw = s.flows && s.flows.password;
        if (pw) {
          box.appendChild(el('p', null, ['Token URL: ', el('code', null, pw.tokenUrl)]));
          var ul = el('ul');
          Object.keys(pw.scopes || {}).forEach(function (sc) {
            ul.appendChild(el('li', null, [el('code', null, sc), ' — ', pw.scopes[sc]]));
          });
          box.appendChild(ul);
        }
        intro.appendChild(box);
      });
    }
    main.appendChild(intro);

    var ops = operations();
    var tags = (doc.tags || []).map(function (t) { return t.name; });
    ops.forEach(function (o) {
      var t = (o.op.tags && o.op.tags[0]) || 'other';
      if (tags.indexOf(t) < 0) {
        tags.push(t);
      }
    });
    var navItems = [];
    var sections = [];
    tags.forEach(function (tag) {
      var group = ops.filter(function (o) { return ((o.op.tags && o.op.tags[0]) || 'other') === tag; });
      if (!group.length) {
        return;
      }
      var tagInfo = (doc.tags || []).filter(function (t) { return t.name === tag; })[0] || {};
      var box = el('section', { class: 'tag', id: 'tag-' + tag }, [el('h2', null, tag), tagInfo.description ? markdown(tagInfo.description, 'md') : null]);
      var list = el('ul');
      group.forEach(function (o) {
        var section = operationView(o.path, o.method, o.op, o.item);
        box.appendChild(section);
        sections.push(section);
        var link = el('li', null, el('a', { href: '#' + section.id }, [el('span', { class: 'method method-' + o.method }, o.method.toUpperCase()), el('span', { class: 'path' }, o.path)]));
        link.dataset.target = section.id;
        list.appendChild(link);
        navItems.push(link);
      });
      nav.appendChild(el('div', { class: 'nav-group' }, [el('h2', null, tag), list]));
      main.appendChild(box);
    });

    var schemas = (doc.components || {}).schemas || {};
    if (Object.keys(schemas).length) {
      var box = el('section', { class: 'tag', id: 'schemas' }, [el('h2', null, 'Schemas')]);
      Object.keys(schemas).forEach(function (name) {
        box.appendChild(el('section', { class: 'op schema-def', id: 'schema-' + name }, [el('h3', null, el('span', { class: 'path' }, name)), schemaView({ $ref: '#/components/schemas/' + name })]));
      });
      main.appendChild(box);
      nav.appendChild(el('div', { class: 'nav-group', id: 'nav-schemas' }, [el('h2', null, 'Schemas'), el('ul', null, el('li', null, el('a', { href: '#schemas' }, 'All schemas')))]));
    }

    var empty = el('p', { class: 'empty hidden', id: 'no-match' }, 'No route matches the search.');
    main.appendChild(empty);
    var search = document.getElementById('search');
    search.disabled = false;
    search.addEventListener('input', function () {
      var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      sections.forEach(function (s) {
        var hit = words.every(function (w) { return s.dataset.search.indexOf(w) >= 0; });
        s.classList.toggle('hidden', !hit);
        if (hit) { shown++; }
      });
      navItems.forEach(function (li) {
        li.classList.toggle('hidden', document.getElementById(li.dataset.target).classList.contains('hidden'));
      });
      Array.prototype.forEach.call(nav.querySelectorAll('.nav-group'), function (g) {
        g.classList.toggle('hidden', g.id === 'nav-schemas' ? words.length > 0 : !g.querySelector('li:not(.hidden)'));
      });
      intro.classList.toggle('hidden', words.length > 0);
      Array.prototype.forEach.call(main.querySelectorAll('section.tag'), function (t) {
        if (t.id === 'schemas') {
          t.classList.toggle('hidden', words.length > 0);
          return;
        }
        t.classList.toggle('hidden', !t.querySelector('section.op:not(.hidden)'));
      });
      empty.classList.toggle('hidden', shown > 0);
      status.textContent = words.length ? shown + ' of ' + sections.length + ' operations match' : sections.length + ' operations';
    });
    document.addEventListener('keydown', function (e) {
      if (e.key === '/' && document.activeElement !== search) {
        e.preventDefault();
        search.focus();
      }
    });

    status.textContent = sections.length + ' operations';
    document.body.dataset.operations = String(sections.length);
    // The style sheet sets --docs-css; without it the policy blocked it.
    var styled = getComputedStyle(document.documentElement).getPropertyValue('--docs-css').trim() === '1';
    document.body.dataset.style = styled ? 'applied' : 'missing';
    // ?q=words opens the page with the search box filled in.
    var q = new URLSearchParams(location.search).get('q');
    if (q) {
      search.value = q;
      search.dispatchEvent(new Event('input'));
    }
    document.body.dataset.state = 'ready';
    if (location.hash) {
      var target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
      if (target) { target.scrollIntoView(); }
    }
  }

  function fail(message) {
    var status = document.getElementById('status');
    status.textContent = 'Could not render the API reference: ' + message;
    document.body.dataset.state = 'error';
  }

  fetch('openapi.json', { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
    .then(function (res) {
      if (!res.ok) {
        throw new Error('GET openapi.json answered ' + res.status);
      }
      return res.json();
    })
    .then(function (d) {
      if (!d || typeof d !== 'object' || !d.paths) {
        throw new Error('openapi.json is not an OpenAPI document');
      }
      doc = d;
      render();
    })
    .catch(function (err) {
      fail(err && err.message ? err.message : String(err));
    });
}());

/// The review pages' one script: keyboard shortcuts (j/k move, a/r accept/reject, l relabel with type-ahead,
/// u undo, x select, e edit a question or description), multi-select, and the POSTs of `action` (relative: under the session's path).
enum ReviewScript {
    static let source = #"""
    (function () {
      'use strict';
      const items = Array.from(document.querySelectorAll('.review-item'));
      let current = 0;
      const msg = document.getElementById('msg');
      const keywordEl = document.getElementById('keyword');
      const keyword = keywordEl ? keywordEl.dataset.keyword : null;
      function show(i) {
        if (!items.length) return;
        current = Math.max(0, Math.min(items.length - 1, i));
        items.forEach((el, n) => el.classList.toggle('current', n === current));
        items[current].scrollIntoView({block: 'nearest'});
      }
      function targets() {
        const selected = items.filter(el => el.classList.contains('selected'));
        return selected.length ? selected : (items.length ? [items[current]] : []);
      }
      async function post(fields) {
        const body = new URLSearchParams();
        for (const [k, v] of fields) body.append(k, v);
        const response = await fetch('action', {method: 'POST', body: body});
        const reply = await response.json().catch(() => ({ok: false, message: 'HTTP ' + response.status}));
        msg.textContent = reply.ok ? '' : reply.message;
        if (reply.progress) document.getElementById('progress').textContent = 'reviewed ' + reply.progress;
        return reply;
      }
      async function decide(verdict) {
        const chosen = targets();
        if (!chosen.length) return;
        const kind = chosen[0].dataset.kind;
        const fields = [['kind', kind], ['action', verdict]];
        if (keyword) fields.push(['keyword', keyword]);
        chosen.forEach(el => fields.push(['item', kind === 'image' ? el.dataset.sha : el.dataset.id]));
        const reply = await post(fields);
        if (reply.ok) chosen.forEach(el => {
          el.classList.remove('accept', 'reject', 'selected');
          el.classList.add(verdict);
          const state = el.querySelector('.state');
          if (state) state.textContent = 'human: ' + verdict;
        });
        if (reply.ok && chosen.length === 1) show(current + 1);
      }
      const relabel = document.getElementById('relabel');
      const relabelInput = document.getElementById('relabel-input');
      const relabelOptions = document.getElementById('relabel-options');
      async function suggest() {
        const response = await fetch('api/keywords?q=' + encodeURIComponent(relabelInput.value));
        const names = await response.json();
        relabelOptions.replaceChildren(...names.filter(n => n !== keyword).map(n => { const o = document.createElement('option'); o.value = n; return o; }));
      }
      async function doRelabel() {
        const to = relabelInput.value.trim();
        if (!to) return;
        const chosen = targets();
        const fields = [['kind', 'image'], ['action', 'relabel'], ['keyword', keyword], ['to', to]];
        chosen.forEach(el => fields.push(['item', el.dataset.sha]));
        const reply = await post(fields);
        if (reply.ok) {
          chosen.forEach(el => { el.classList.remove('accept', 'selected'); el.classList.add('reject');
            const state = el.querySelector('.state'); if (state) state.textContent = 'relabelled to ' + to; });
          relabel.hidden = true; relabelInput.value = ''; show(current + 1);
        }
      }
      if (relabelInput) {
        relabelInput.addEventListener('input', suggest);
        relabelInput.addEventListener('keydown', e => { if (e.key === 'Enter') { e.preventDefault(); doRelabel(); }
                                                         if (e.key === 'Escape') { relabel.hidden = true; } });
        document.getElementById('relabel-go').addEventListener('click', doRelabel);
      }
      const editForm = document.getElementById('edit-form');
      const textForm = document.getElementById('edit-text-form');
      if (textForm) {
        textForm.addEventListener('submit', async e => {
          e.preventDefault();
          const reply = await post([['kind', 'description'], ['action', 'edit'], ['keyword', keyword || ''], ['item', textForm.dataset.id],
                                    ['text', document.getElementById('edit-text').value]]);
          if (reply.ok) location.reload();
        });
        document.getElementById('edit-text-cancel').addEventListener('click', () => { textForm.hidden = true; });
      }
      function edit() {
        const el = items[current];
        if (el && el.dataset.kind === 'description' && textForm) {
          textForm.hidden = false;
          textForm.dataset.id = el.dataset.id;
          document.getElementById('edit-text-id').textContent = el.dataset.id;
          document.getElementById('edit-text').value = el.dataset.text;
          document.getElementById('edit-text').focus();
          return;
        }
        if (!el || el.dataset.kind !== 'question' || !editForm) return;
        editForm.hidden = false;
        editForm.dataset.id = el.dataset.id;
        document.getElementById('edit-id').textContent = el.dataset.id;
        document.getElementById('edit-question').value = el.dataset.question;
        document.getElementById('edit-options').value = el.dataset.options;
        document.getElementById('edit-answer').value = String.fromCharCode(65 + Number(el.dataset.answer));
        document.getElementById('edit-question').focus();
      }
      if (editForm) {
        editForm.addEventListener('submit', async e => {
          e.preventDefault();
          const letter = document.getElementById('edit-answer').value.trim().toUpperCase();
          const reply = await post([['kind', 'question'], ['action', 'edit'], ['keyword', keyword || ''], ['item', editForm.dataset.id],
                                    ['question', document.getElementById('edit-question').value],
                                    ['options', document.getElementById('edit-options').value],
                                    ['answer', String(letter.charCodeAt(0) - 65)]]);
          if (reply.ok) location.reload();
        });
        document.getElementById('edit-cancel').addEventListener('click', () => { editForm.hidden = true; });
      }
      document.addEventListener('keydown', async e => {
        const tag = (e.target && e.target.tagName) || '';
        if (tag === 'INPUT' || tag === 'TEXTAREA' || e.ctrlKey || e.metaKey || e.altKey) return;
        switch (e.key) {
          case 'j': show(current + 1); break;
          case 'k': show(current - 1); break;
          case 'a': await decide('accept'); break;
          case 'r': await decide('reject'); break;
          case 'x': if (items[current]) items[current].classList.toggle('selected'); break;
          case 'l': if (relabel && keyword) { e.preventDefault(); relabel.hidden = false; relabelInput.focus(); suggest(); } break;
          case 'e': e.preventDefault(); edit(); break;
          case 'u': { const reply = await post([['action', 'undo']]); if (reply.ok) location.reload(); break; }
          default: return;
        }
      });
      items.forEach((el, n) => el.addEventListener('click', ev => {
        if (ev.target.tagName === 'IMG') return;
        if (ev.shiftKey) el.classList.toggle('selected');
        show(n);
      }));
      show(0);
    })();
    """#
}

// The 連絡票 form: the EPDS total as items are chosen (the server computes
// it again), a file over the limit named at its field before anything is
// uploaded, and the error summary focused when the form comes back with
// problems. The form works without this script.
(function () {
  'use strict';
  var form = document.getElementById('compose');
  if (!form) { return; }

  var summary = document.getElementById('error-summary');
  if (summary) { summary.focus(); }

  var total = document.getElementById('epds-total');
  var items = [];
  for (var i = 0; i < 10; i++) {
    var el = document.getElementById('f-epds-items-' + i);
    if (el) { items.push(el); }
  }
  function updateTotal() {
    var sum = 0;
    for (var j = 0; j < items.length; j++) {
      if (items[j].value === '') { total.textContent = '—'; return; }
      sum += parseInt(items[j].value, 10);
    }
    total.textContent = String(sum);
  }
  if (total) {
    items.forEach(function (el) { el.addEventListener('change', updateTotal); });
  }

  // The ten scores typed in one go fill the ten lists (the server reads
  // the typed scores itself; this only shows them).
  var quick = document.getElementById('f-epds-quick');
  var fullWidth = '０１２３４５６７８９';
  function fillFromQuick() {
    var digits = [];
    var chars = quick.value.replace(/[\s,、\-]/g, '');
    for (var c = 0; c < chars.length; c++) {
      var d = fullWidth.indexOf(chars[c]);
      digits.push(d >= 0 ? d : parseInt(chars[c], 10));
    }
    var fits = digits.length === items.length && digits.every(function (n) { return n >= 0 && n <= 3; });
    if (!fits) { return; }
    digits.forEach(function (n, k) { items[k].value = String(n); });
    if (total) { updateTotal(); }
  }
  if (quick) { quick.addEventListener('input', fillFromQuick); }

  var files = document.getElementById('f-attachments');
  function fileMessage() {
    if (!files || !files.files) { return ''; }
    var max = parseInt(files.getAttribute('data-max-bytes'), 10);
    var sum = 0;
    for (var k = 0; k < files.files.length; k++) { sum += files.files[k].size; }
    if (sum <= max) { return ''; }
    var mb = (sum / 1048576).toFixed(1);
    var ja = document.documentElement.lang !== 'en';
    return ja
      ? '添付ファイルが大きすぎます（' + mb + 'MB）。合計5MBまでです。小さいファイルを選び直してください。'
      : 'The attachments are too large (' + mb + ' MB); 5 MB in all. Choose smaller files.';
  }
  function showFileMessage(text) {
    var id = 'f-attachments-error';
    var p = document.getElementById(id);
    if (!text) { if (p && p.getAttribute('data-live')) { p.remove(); files.removeAttribute('aria-invalid'); } return; }
    if (!p) {
      p = document.createElement('p');
      p.id = id;
      p.className = 'field-error';
      p.setAttribute('data-live', '1');
      p.setAttribute('role', 'alert');
      files.parentNode.insertBefore(p, files);
      var described = files.getAttribute('aria-describedby') || '';
      files.setAttribute('aria-describedby', (described + ' ' + id).trim());
    }
    p.textContent = text;
    files.setAttribute('aria-invalid', 'true');
  }
  if (files) {
    files.addEventListener('change', function () { showFileMessage(fileMessage()); });
  }
  form.addEventListener('submit', function (event) {
    var submitter = event.submitter;
    // Drafts keep no files: leave them out of the upload.
    if (submitter && submitter.value === 'save') { if (files) { files.disabled = true; } return; }
    var text = fileMessage();
    if (text) {
      event.preventDefault();
      showFileMessage(text);
      files.focus();
    }
  });
})();

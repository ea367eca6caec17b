/* Northwind Pharmacy page behaviour: the site's own conversion tracking, the
 * way a marketing team wires it (each vendor called only if its tag is on the
 * page), plus the cart. Forms wait briefly for tags before submitting, the
 * common "wait for tags" pattern, so submit-time events are not lost. */
(function () {
  function meta() { return typeof window.fbq === 'function' ? window.fbq : null; }
  function ga() { return typeof window.gtag === 'function' ? window.gtag : null; }
  function tt() { return window.ttq && typeof window.ttq.track === 'function' ? window.ttq : null; }
  function fieldValue(form, name) {
    var f = form.elements[name];
    return f ? f.value : '';
  }

  document.addEventListener('click', function (e) {
    var cart = e.target.closest && e.target.closest('[data-add-to-cart]');
    if (cart) {
      var item = {
        sku: cart.getAttribute('data-sku'), name: cart.getAttribute('data-name'),
        category: cart.getAttribute('data-category'), price: Number(cart.getAttribute('data-price'))
      };
      fetch('/api/cart', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ sku: item.sku, quantity: 1 })
      }).then(function (r) { return r.json(); }).then(function (j) {
        var out = document.getElementById('cart-status');
        if (out) out.textContent = 'Added to cart (' + j.items + ' item' + (j.items === 1 ? '' : 's') + ')';
      }).catch(function () {});
      if (meta()) meta()('track', 'AddToCart', { content_ids: [item.sku], content_name: item.name, content_type: 'product', content_category: item.category, value: item.price, currency: 'USD' });
      if (ga()) ga()('event', 'add_to_cart', { currency: 'USD', value: item.price, items: [{ item_id: item.sku, item_name: item.name, item_category: item.category, price: item.price, quantity: 1 }] });
      if (tt()) tt().track('AddToCart', { contents: [{ content_id: item.sku, content_name: item.name, quantity: 1, price: item.price }], content_type: 'product', value: item.price, currency: 'USD' });
      return;
    }
    var call = e.target.closest && e.target.closest('a[href^="tel:"]');
    if (call) {
      if (meta()) meta()('track', 'Contact', { content_name: 'Call pharmacist' });
      if (ga()) ga()('event', 'contact_pharmacist', { method: 'phone' });
      if (tt()) tt().track('Contact', { description: 'Call pharmacist' });
    }
  });

  function holdSubmit(form, fire) {
    form.addEventListener('submit', function (e) {
      if (form.getAttribute('data-sending')) return;
      e.preventDefault();
      form.setAttribute('data-sending', '1');
      try { fire(form); } catch (err) { /* tracking never blocks the form */ }
      setTimeout(function () { form.submit(); }, 600);
    });
  }

  var refill = document.getElementById('refill-form');
  if (refill) holdSubmit(refill, function (form) {
    var med = form.elements.medication;
    var medName = med && med.selectedIndex >= 0 ? med.options[med.selectedIndex].text : '';
    if (meta()) meta()('track', 'Lead', { content_name: 'Prescription refill', content_category: medName });
    if (ga()) ga()('event', 'generate_lead', { form_name: 'prescription_refill', medication: medName });
    if (tt()) tt().track('SubmitForm', { content_name: 'Prescription refill', description: medName });
  });

  var booking = document.getElementById('appointment-form');
  if (booking) holdSubmit(booking, function (form) {
    var sel = form.elements.service;
    var reason = sel && sel.selectedIndex >= 0 ? sel.options[sel.selectedIndex].text : '';
    if (meta()) meta()('track', 'Schedule', { content_name: reason, appointment_date: fieldValue(form, 'date') });
    if (ga()) ga()('event', 'generate_lead', { form_name: 'appointment', appointment_reason: reason });
    if (tt()) tt().track('SubmitForm', { content_name: 'Book appointment', description: reason });
  });
})();
